import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { RekorError, verifyBundle } from '@rekor-budget/rekor';
import { EXIT, type CliIo } from '../io';

interface VerifyOptions {
  bundle: string;
  trustedRoot: string;
  key: string;
  json?: boolean;
}

type Loaded = { ok: true; text: string } | { ok: false; message: string };

async function load(io: CliIo, option: string, file: string): Promise<Loaded> {
  try {
    return { ok: true, text: await readFile(resolve(io.cwd, file), 'utf8') };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    return { ok: false, message: `${option} ${file}: cannot read the file (${code})` };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function registerVerify(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('verify')
    .description('verify a sigstore bundle offline against a trusted root and the signing public key')
    .requiredOption('--bundle <file>', 'the sigstore bundle (JSON), e.g. from a receipt')
    .requiredOption('--trusted-root <file>', "the trusted root (JSON), e.g. rekor-local's /trusted_root.json")
    .requiredOption('--key <file>', 'the signing public key (PEM), e.g. the .pub written by keygen')
    .option('--json', 'print the result as JSON')
    .action(async (opts: VerifyOptions) => {
      const files = [
        await load(io, '--bundle', opts.bundle),
        await load(io, '--trusted-root', opts.trustedRoot),
        await load(io, '--key', opts.key),
      ];
      const unreadable = files.filter((f): f is { ok: false; message: string } => !f.ok);
      if (unreadable.length > 0) {
        for (const f of unreadable) io.err(`rekor-budget: ${f.message}`);
        setExit(EXIT.USAGE);
        return;
      }
      const [bundle, root, key] = files.map((f) => (f as { text: string }).text) as [string, string, string];
      const trustedRoot = parseJson(root);
      if (trustedRoot === undefined) {
        io.err(`rekor-budget: --trusted-root ${opts.trustedRoot}: not JSON`);
        setExit(EXIT.USAGE);
        return;
      }
      let result;
      try {
        result = verifyBundle({ bundle: parseJson(bundle) ?? null, trustedRoot, publicKeyPem: key });
      } catch (e) {
        if (!(e instanceof RekorError)) throw e;
        if (e.code === 'INVALID_BUNDLE') {
          result = { verified: false as const, code: e.code, message: e.message };
        } else {
          io.err(`rekor-budget: ${e.message} [${e.code}]`);
          setExit(EXIT.USAGE);
          return;
        }
      }
      if (opts.json) io.out(JSON.stringify(result));
      else if (result.verified) io.out(`verified: ${opts.bundle} (log index ${result.logIndex})`);
      else io.out(`verification failed: ${result.code}: ${result.message}`);
      setExit(result.verified ? EXIT.OK : EXIT.FAILURE);
    });
}
