import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { KeyAlgorithm } from '@rekor-budget/core';
import { RekorError, writeKeyPair } from '@rekor-budget/rekor';
import { EXIT, type CliIo } from '../io';

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
        io.err(`rekor-budget: --algorithm ${opts.algorithm} is not one of ${ALGORITHMS.join(', ')}`);
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
