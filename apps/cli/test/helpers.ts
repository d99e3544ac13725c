import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const BIN = join(__dirname, '..', 'bin', 'rekor-budget.js');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `rekor-budget` binary as a real process. */
export function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? process.cwd(),
      env: { ...process.env, ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `submit edge` flags of a reachable CVSS 9.8 finding whose path is in `edgesFile` (written here). */
export function escalatedFindingFlags(edgesFile: string): string[] {
  writeFileSync(edgesFile, JSON.stringify([{ from: 'main', to: 'decode' }]));
  return ['--cve', 'CVE-2024-3094', '--cvss', '9.8', '--reachable', '--edges', edgesFile];
}
