import { resolve } from 'node:path';
import type { Command } from 'commander';
import { InputError, parseDuration } from '@rekor-budget/core';
import {
  awaitKitReceipts,
  exportKit,
  importKit,
  OfflineKitError,
  type ExportKitReport,
  type ImportedEntry,
  type ImportKitReport,
} from '@rekor-budget/offline-kit';
import { createRekorProducer } from '@rekor-budget/producer';
import { loadSigner } from '@rekor-budget/rekor';
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
  wait?: boolean;
  timeout: string;
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
  const head = `${e.status.padEnd(10)}  ${e.tier.padEnd(5)}  ${e.contentDigest}`;
  if (e.status === 'failed') return `${head}  ${e.reason} [${e.code}]`;
  if (e.status === 'logged') return `${head}  #${e.logIndex} ${e.uuid}`;
  return e.kitEnvelope ? head : `${head}  (this site's earlier envelope of the same content is sent)`;
}

function printImport(io: CliIo, dir: string, r: ImportKitReport): void {
  io.out(`imported kit ${dir} (manifest ${r.manifestDigest}) into the tier queues`);
  for (const e of r.entries) io.out(`  ${entryLine(e)}`);
  const c = r.counts;
  io.out(
    `queued ${c.queued}, overflowed ${c.overflowed}, already pending ${c.pending}, already logged ${c.logged}, rejected earlier ${c.rejected}, failed ${c.failed}`,
  );
  if (c.failed > 0)
    io.err(
      'some entries were not queued (see each reason); nothing is lost: fix the cause and import the same kit again',
    );
  if (c.rejected > 0) io.err('some contents were refused by the log earlier: see rekor-budget rejected list');
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
      const { config } = configFor(cmd.optsWithGlobals<GlobalOptions>(), io, { runEnv: true });
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
      "verify a kit completely, then submit its envelopes through the tier queues: the workers log them under each tenant's budget and store the receipts",
    )
    .requiredOption('--in <kit>', 'the kit directory written by offline export')
    .option(
      '--key <pub.pem>',
      "the air-gapped site's signing public key; every envelope must be signed by it (repeat for several keys; default: the public key of signing.keyPath)",
      collect,
      [],
    )
    .option('--wait', 'wait until every queued entry has a receipt (the workers must be running)')
    .option('--timeout <duration>', 'with --wait: give up waiting after this long (hh:mm:ss)', '00:10:00')
    .option('--json', 'print the report as JSON')
    .action(async (flags: ImportFlags, cmd: Command) => {
      const { config } = configFor(cmd.optsWithGlobals<GlobalOptions>(), io, { runEnv: true });
      const timeoutMs = parseDuration(flags.timeout);
      if (timeoutMs === undefined || timeoutMs < 1000) {
        io.err(
          `rekor-budget: --timeout ${JSON.stringify(flags.timeout.slice(0, 40))} is not a duration of at least a second; use hh:mm:ss, e.g. 00:10:00 [INVALID_INPUT]`,
        );
        setExit(EXIT.USAGE);
        return;
      }
      if (!flags.wait && cmd.getOptionValueSource('timeout') === 'cli') {
        throw new InputError(
          'INVALID_INPUT',
          '--timeout',
          'is how long --wait waits; add --wait, or drop --timeout',
        );
      }
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
      const logger = createCliLogger(io, { stream: 'err' });
      const db = commandDb(config, logger);
      const producer = createRekorProducer({ config, db, logger });
      const dir = resolve(io.cwd, flags.in);
      try {
        const report = await importKit({ db, kitDir: dir, producer, trustedKeys });
        if (flags.json && !flags.wait) io.out(JSON.stringify(report));
        else if (!flags.json) printImport(io, dir, report);
        let code = report.counts.failed > 0 || report.counts.rejected > 0 ? EXIT.FAILURE : EXIT.OK;
        if (flags.wait) {
          const waited = await awaitKitReceipts({
            db,
            entries: report.entries,
            timeoutMs,
            onProgress: (logged, rejected, of) =>
              flags.json ||
              io.err(`logged ${logged} of ${of}${rejected > 0 ? `, ${rejected} refused by the log` : ''}`),
            onLookupError: (fields) => logger.warn(fields, 'a receipt look-up failed; asking again'),
          });
          if (flags.json) io.out(JSON.stringify({ ...report, waited }));
          else if (waited.waiting.length > 0)
            io.err(
              `${waited.waiting.length} entr${waited.waiting.length === 1 ? 'y has' : 'ies have'} no receipt after ${flags.timeout}; nothing is lost: the workers go on (rekor-budget status shows the queues)`,
            );
          else
            io.out(`every queued entry is logged (${waited.logged}), ${waited.rejected} refused by the log`);
          if (waited.waiting.length > 0 || waited.rejected > 0) code = EXIT.FAILURE;
        } else if (!flags.json && report.counts.queued + report.counts.overflowed > 0) {
          io.out(
            "the workers log the queued entries under each tenant's budget; --wait waits for the receipts",
          );
        }
        setExit(code);
      } catch (e) {
        reportKitError(e, io, setExit);
      } finally {
        await producer.close();
        await db.destroy();
      }
    });
}
