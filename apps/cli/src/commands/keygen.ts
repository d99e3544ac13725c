import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { InputError, type KeyAlgorithm } from '@rekor-budget/core';
import { loadSigner, RekorError, writeKeyPair } from '@rekor-budget/rekor';
import { RunError } from '@rekor-budget/worker';
import { configFor, type GlobalOptions } from '../context';
import { EXIT, type CliIo } from '../io';
import { writeOutFile } from '../util';

const ALGORITHMS: readonly KeyAlgorithm[] = ['ecdsa-p256', 'ed25519'];

export function registerKeygen(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('keygen')
    .description('create a signing key pair: <file> (private, mode 0600) and <file>.pub (SPKI PEM)')
    .requiredOption('--out <file>', 'where to write the private key; the public key goes to <file>.pub')
    .option('--algorithm <name>', `key type: ${ALGORITHMS.join(' or ')}`, 'ecdsa-p256')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { out: string; algorithm: string; json?: boolean }) => {
      if (!(ALGORITHMS as readonly string[]).includes(opts.algorithm)) {
        io.err(
          `rekor-budget: --algorithm ${JSON.stringify(opts.algorithm.slice(0, 40))} is not one of ${ALGORITHMS.join(', ')} [INVALID_INPUT]`,
        );
        setExit(EXIT.USAGE);
        return;
      }
      try {
        const r = await writeKeyPair(resolve(io.cwd, opts.out), opts.algorithm as KeyAlgorithm);
        if (opts.json) io.out(JSON.stringify(r));
        else
          io.out(
            `wrote ${r.privateKeyPath} (private, 0600) and ${r.publicKeyPath}\nkey hint: ${r.keyHint}\n` +
              `set attestor.rekor.signing.keyPath (or SIGNING_KEY) to ${r.privateKeyPath}`,
          );
        setExit(EXIT.OK);
      } catch (e) {
        if (!(e instanceof RekorError)) throw e;
        io.err(`rekor-budget: ${e.message} [${e.code}]`);
        setExit(e.code === 'KEY_EXISTS' ? EXIT.USAGE : EXIT.FAILURE);
      }
    });
}

/**
 * `key public`: the public key of the configured signing key, for `verify`,
 * `offline import --key` and `receipts import --key` elsewhere (in
 * containers the private key stays in its volume; this prints what may leave).
 */
export function registerKey(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const key = program.command('key').description('the signing key of this site');
  key
    .command('public')
    .description('print the public key (SPKI PEM) of signing.keyPath (SIGNING_KEY), or write it with --out')
    .option('--out <file>', 'write the public key here instead of printing it (a new file)')
    .option('--force', 'with --out: overwrite an existing file')
    .action(async (opts: { out?: string; force?: boolean }, cmd: Command) => {
      const { config } = configFor(cmd.optsWithGlobals<GlobalOptions>(), io);
      if (!config.signing.keyPath) {
        throw new RunError(
          'SIGNING_KEY_MISSING',
          'no signing key: set attestor.rekor.signing.keyPath or SIGNING_KEY to the PEM private key whose public key you want',
        );
      }
      const keyPath = resolve(io.cwd, config.signing.keyPath);
      const { publicKeyPem } = await loadSigner({ keyPath });
      if (opts.out) {
        const out = resolve(io.cwd, opts.out);
        // --force overwrites a file, but never the private key it was read from (by any name)
        if (sameFile(out, keyPath)) {
          throw new InputError(
            'INVALID_INPUT',
            '--out',
            `${out} is the signing key itself; write the public key to another file`,
          );
        }
        writeOutFile(out, publicKeyPem, { option: '--out', force: opts.force === true });
        io.out(`wrote ${out}`);
      } else io.out(publicKeyPem);
      setExit(EXIT.OK);
    });
}

/** Whether two paths name one file (a link or another spelling of the same path included). */
function sameFile(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    const [x, y] = [statSync(a), statSync(b)];
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    // one of them does not exist: not the same file
    return false;
  }
}
