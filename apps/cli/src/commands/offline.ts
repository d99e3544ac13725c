import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  exportKit,
  importKit,
  OfflineKitError,
  type ExportKitReport,
  type ImportedEntry,
  type ImportKitReport,
} from '@rekor-budget/offline-kit';
import { clientOptionsFromConfig, createRekorClient, loadSigner } from '@rekor-budget/rekor';
import { configFor, type GlobalOptions } from '../context';
import { EXIT, type CliIo } from '../io';
import { createCliLogger } from '../logger';
import { commandDb } from '../wiring';
import { reportKitError, signingPublicKeys } from '../kit-errors';

interface ExportFlags {
  out: string;
  includeExported?: boolean;
  site?: string;
  json?: boolean;
}

interface ImportFlags {
  in: string;
  key: string[];
  json?: boolean;
}

const collect = (value: string, all: string[]) => [...all, value];

function printExport(io: CliIo, r: ExportKitReport): void {
  io.out(
    `wrote kit ${r.dir}: ${r.manifest.entries.length} attestation(s), manifest ${r.manifest.manifestDigest}`,
  );
  if (r.signed > 0)
    io.out(`signed ${r.signed} row(s) that had no envelope yet (the envelope is kept in the row)`);
  for (const s of r.skipped) io.err(`skipped ${s.id} ${s.contentDigest}: ${s.reason}: ${s.message}`);
}

function entryLine(e: ImportedEntry): string {
  const head = `${e.status.padEnd(9)}  ${e.tier.padEnd(5)}  ${e.contentDigest}`;
  return e.status === 'failed' ? `${head}  ${e.outcome}: ${e.reason}` : `${head}  #${e.logIndex} ${e.uuid}`;
}

function printImport(io: CliIo, dir: string, r: ImportKitReport): void {
  io.out(`imported kit ${dir} (manifest ${r.manifestDigest}) into ${r.logUrl}`);
  for (const e of r.entries) io.out(`  ${entryLine(e)}`);
  io.out(`created ${r.created}, duplicate ${r.duplicate}, failed ${r.failed}`);
  if (r.failed > 0)
    io.err('some entries failed; nothing is lost: import the same kit again once the log answers');
}

export function registerOffline(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const offline = program
    .command('offline')
    .description(
      'air-gapped sites: write pending attestations into an offline kit; submit a kit on a connected site',
    );

  offline
    .command('export')
    .description(
      'write the offline queue (signed envelopes) into a new kit directory and mark the rows exported',
    )
    .requiredOption('--out <kit>', 'the kit directory to create (must not exist, or be empty)')
    .option('--include-exported', 'also include rows already written into an earlier kit')
    .option('--site <name>', 'site name recorded in the manifest (default: the host name)')
    .option('--json', 'print the report as JSON')
    .action(async (flags: ExportFlags, cmd: Command) => {
      const { config } = configFor(cmd.optsWithGlobals<GlobalOptions>(), io);
      const signer = config.signing.keyPath
        ? await loadSigner({ keyPath: config.signing.keyPath, keyHint: config.signing.keyHint })
        : undefined;
      const db = commandDb(config, createCliLogger(io, { stream: 'err' }));
      try {
        const report = await exportKit({
          db,
          outDir: resolve(io.cwd, flags.out),
          site: {
            logUrl: config.serverUrl,
            apiVersion: config.apiVersion,
            entryKind: config.entryKind,
            ...(flags.site ? { name: flags.site } : {}),
          },
          ...(signer ? { signer } : {}),
          maxPayloadBytes: config.maxPayloadBytes,
          includeExported: flags.includeExported === true,
        });
        if (flags.json) io.out(JSON.stringify(report));
        else printExport(io, report);
        setExit(EXIT.OK);
      } catch (e) {
        reportKitError(e, io, setExit);
      } finally {
        await db.destroy();
      }
    });

  offline
    .command('import')
    .description(
      'verify a kit completely, then submit its envelopes to the configured Rekor and store the receipts',
    )
    .requiredOption('--in <kit>', 'the kit directory written by offline export')
    .option(
      '--key <pub.pem>',
      "the air-gapped site's signing public key; every envelope must be signed by it (repeat for several keys; default: the public key of signing.keyPath)",
      collect,
      [],
    )
    .option('--json', 'print the report as JSON')
    .action(async (flags: ImportFlags, cmd: Command) => {
      const { config } = configFor(cmd.optsWithGlobals<GlobalOptions>(), io);
      if (config.offline.airGapped) {
        reportKitError(
          new OfflineKitError(
            'SITE_MISMATCH',
            'this site is air-gapped (offline.airGapped: true); import the kit on a connected site',
          ),
          io,
          setExit,
        );
        return;
      }
      let trustedKeys: string[];
      try {
        trustedKeys = await signingPublicKeys(io, flags.key, config.signing);
      } catch (e) {
        reportKitError(e, io, setExit);
        return;
      }
      const db = commandDb(config, createCliLogger(io, { stream: 'err' }));
      const client = createRekorClient(clientOptionsFromConfig(config));
      const dir = resolve(io.cwd, flags.in);
      try {
        const report = await importKit({ db, kitDir: dir, client, retry: config.retry, trustedKeys });
        if (flags.json) io.out(JSON.stringify(report));
        else printImport(io, dir, report);
        setExit(report.failed > 0 ? EXIT.FAILURE : EXIT.OK);
      } catch (e) {
        reportKitError(e, io, setExit);
      } finally {
        client.close();
        await db.destroy();
      }
    });
}
