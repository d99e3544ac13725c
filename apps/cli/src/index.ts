export { main, buildProgram } from './main';
export { EXIT } from './io';
export type { CliIo } from './io';
