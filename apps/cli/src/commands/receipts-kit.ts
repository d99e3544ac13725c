import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { InputError, isTenantId, parseRfc3339Date, parseRfc3339Time } from '@rekor-budget/core';
import { exportReceipts, importReceipts, OfflineKitError } from '@rekor-budget/offline-kit';
import { configFor, type GlobalOptions } from '../context';
import { EXIT, type CliIo } from '../io';
import { createCliLogger } from '../logger';
import { commandDb } from '../wiring';
import { readInput, reportKitError, signingPublicKeys } from '../kit-errors';

interface ExportFlags {
  out: string;
  since?: Date;
  tenant?: string;
  json?: boolean;
}

interface ImportFlags {
  in: string;
  trustedRoot?: string;
  key?: string;
  /** commander's negation: false with --no-verify. */
  verify: boolean;
  json?: boolean;
}

/** An RFC 3339 time, or a date (its first instant in UTC). */
function time(value: string): Date {
  const at = parseRfc3339Time(value) ?? parseRfc3339Date(value);
  if (at === undefined) {
    throw new InvalidArgumentError(
      'use an RFC 3339 time with its offset or a date that exists, e.g. 2025-12-20T10:00:00Z or 2025-12-20',
    );
  }
  return at;
}

/**
 * `receipts export` and `receipts import`: receipts travel back to an
 * air-gapped site. Flags are read with `optsWithGlobals()`: `--tenant` and
 * `--json` are also options of the parent `receipts` (the list), which
 * commander may hand them to.
 */
export function registerReceiptsKit(receipts: Command, io: CliIo, setExit: (code: number) => void): void {
  receipts
    .command('export')
    .description('write receipts (with their sigstore bundles) into a file to carry to an air-gapped site')
    .requiredOption('--out <file>', 'the receipts file to create (never overwritten)')
    .option('--since <time>', 'only receipts stored at or after this time', time)
    .option('--tenant <uuid>', 'only this tenant')
    .option('--json', 'print a JSON summary')
    .action(async (_flags: ExportFlags, cmd: Command) => {
      const flags = cmd.optsWithGlobals<ExportFlags & GlobalOptions>();
      if (flags.tenant !== undefined && !isTenantId(flags.tenant)) {
        throw new InputError('INVALID_TENANT', '--tenant', `${JSON.stringify(flags.tenant)} is not a UUID`);
      }
      const { config } = configFor(flags, io, { runEnv: true });
      const db = commandDb(config, createCliLogger(io, { stream: 'err' }));
      const out = resolve(io.cwd, flags.out);
      try {
        const file = await exportReceipts({
          db,
          ...(flags.since ? { since: flags.since } : {}),
          ...(flags.tenant ? { tenantId: flags.tenant } : {}),
        });
        try {
          await writeFile(out, `${JSON.stringify(file, null, 2)}\n`, { flag: 'wx' });
        } catch (cause) {
          const exists = (cause as NodeJS.ErrnoException).code === 'EEXIST';
          throw new OfflineKitError(
            exists ? 'KIT_EXISTS' : 'KIT_UNWRITABLE',
            exists ? `${out} already exists; choose a new --out` : `cannot write ${out}`,
            { cause },
          );
        }
        const summary = { file: out, receipts: file.receipts.length, digest: file.digest };
        io.out(
          flags.json
            ? JSON.stringify(summary)
            : `wrote ${summary.receipts} receipt(s) to ${out} (digest ${file.digest})`,
        );
        setExit(EXIT.OK);
      } catch (e) {
        reportKitError(e, io, setExit);
      } finally {
        await db.destroy();
      }
    });

  receipts
    .command('import')
    .description(
      'store receipts from a receipts file and close the air-gapped rows they answer (one transaction)',
    )
    .requiredOption('--in <file>', 'the receipts file written by receipts export')
    .option(
      '--trusted-root <file>',
      "the log's trusted root (e.g. its /trusted_root.json): every bundle is verified offline against it (required)",
    )
    .option(
      '--key <pub>',
      'the signing public key (PEM) the bundles must verify under (default: the public key of signing.keyPath)',
    )
    .option(
      '--no-verify',
      'store the receipts without verifying their bundles (a forged file would close rows never logged)',
    )
    .option('--json', 'print the report as JSON')
    .action(async (_flags: ImportFlags, cmd: Command) => {
      const flags = cmd.optsWithGlobals<ImportFlags & GlobalOptions>();
      const { config } = configFor(flags, io, { runEnv: true });
      let db;
      try {
        const text = await readInput(io, '--in', flags.in);
        let verify: { trustedRoot: unknown; publicKeyPem: string } | { skipVerification: true };
        if (!flags.verify && (flags.trustedRoot !== undefined || flags.key !== undefined)) {
          throw new InputError(
            'INVALID_INPUT',
            '--no-verify',
            `stores the receipts unchecked, so ${flags.trustedRoot !== undefined ? '--trusted-root' : '--key'} would be ignored; drop --no-verify to verify with them, or drop them`,
          );
        }
        if (!flags.verify) {
          io.err(
            'rekor-budget: warning: --no-verify: the bundles are not verified; a forged receipts file would close offline rows that were never logged',
          );
          verify = { skipVerification: true };
        } else {
          if (flags.trustedRoot === undefined) {
            throw new OfflineKitError(
              'VERIFICATION_REQUIRED',
              "--trusted-root <file> is required: the log's trusted root (its /trusted_root.json) to verify every bundle against; or --no-verify to store the receipts unchecked",
            );
          }
          const rootText = await readInput(io, '--trusted-root', flags.trustedRoot);
          const [publicKeyPem] = await signingPublicKeys(
            io,
            flags.key === undefined ? [] : [flags.key],
            config.signing,
          );
          let trustedRoot: unknown;
          try {
            trustedRoot = JSON.parse(rootText);
          } catch {
            throw new InputError(
              'INVALID_INPUT',
              '--trusted-root',
              `${flags.trustedRoot} is not JSON; pass the log's trusted root (its /trusted_root.json)`,
            );
          }
          verify = { trustedRoot, publicKeyPem: publicKeyPem! };
        }
        db = commandDb(config, createCliLogger(io, { stream: 'err' }));
        const report = await importReceipts({ db, text, ...verify });
        io.out(
          flags.json
            ? JSON.stringify(report)
            : `imported ${report.receipts} receipt(s): ${report.stored} new, ${report.closed} offline row(s) closed, ${report.verified} bundle(s) verified offline`,
        );
        setExit(EXIT.OK);
      } catch (e) {
        reportKitError(e, io, setExit);
      } finally {
        await db?.destroy();
      }
    });
}
