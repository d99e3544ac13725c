export { startRekorLocal } from './server';
export type { RekorLocalServer } from './server';

export { DEFAULT_BODY_LIMIT_BYTES } from './options';
export type { RekorLocalOptions, RekorApiMode } from './options';
export { API_MODES } from './options';
export { TimestampAuthority, TSA_FILES } from './tsa/authority';
export { tileIndexPath, TILE_WIDTH } from './tiles/layout';

export { FaultController, validateFault } from './faults';
export type { FaultMode, FaultSpec, ActiveFault } from './faults';

export { RekorLocalError } from './errors';
export type { RekorLocalErrorCode } from './errors';

export { trustedRoot } from './trusted-root';
export type { TrustedRootJson, TrustedRootTlog, TrustedRootTsa } from './trusted-root';

export { SUPPORTED_KINDS } from './kinds';
export { DATA_FILES } from './log/data-dir';
export type { LogEntryMap, LogEntryAnon, LogInfo } from './log/types';
