import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { InputError } from '@rekor-budget/core';
import { createRekorProducer } from '@rekor-budget/producer';
import { configFor, type GlobalOptions } from '../context';
import { EXIT, type CliIo } from '../io';
import { createCliLogger } from '../logger';
import { commandDb } from '../wiring';
import { whole } from '../util';

interface CommonFlags {
  tenant: string;
  graphDigest: string;
  scanId: string;
  subject: string;
  scanner: string;
  finishedAt: string;
  priority?: number;
  json?: boolean;
}

interface EdgeFlags extends CommonFlags {
  cve: string;
  cvss: number;
  reachable: boolean;
  edges: string;
  policyGate?: string;
  requireProof?: boolean;
  manual?: string;
  reason?: string;
}

/** `name@sha256:<hex>` into the statement subject. */
function subjectOf(value: string): { name: string; digest: string } {
  const at = value.lastIndexOf('@');
  if (at <= 0) throw new InvalidArgumentError('use <name>@sha256:<hex>, e.g. registry.example/app@sha256:…');
  return { name: value.slice(0, at), digest: value.slice(at + 1) };
}

function scannerOf(value: string): { name: string; version: string } {
  const at = value.lastIndexOf('@');
  if (at <= 0) throw new InvalidArgumentError('use <name>@<version>, e.g. stella-scanner@1.4.2');
  return { name: value.slice(0, at), version: value.slice(at + 1) };
}

function cvss(value: string): number {
  // decimal only: Number() would also read 0x9, 1e1 or " 9 "
  if (!/^\d{1,2}(\.\d+)?$/.test(value)) throw new InvalidArgumentError('use a number from 0.0 to 10.0');
  return Number(value);
}

/**
 * The escalation the flags describe. A flag that only means something beside
 * another (`--reason` with `--manual`, `--require-proof` with `--policy-gate`)
 * or an empty name is refused rather than dropped: what is attested is what
 * was asked for.
 */
function escalationOf(flags: EdgeFlags): Record<string, unknown> {
  for (const [flag, value] of [
    ['--policy-gate', flags.policyGate],
    ['--manual', flags.manual],
    ['--reason', flags.reason],
  ] as const) {
    if (value !== undefined && value.trim() === '') {
      throw new InputError('INVALID_INPUT', flag, 'is empty; give it a value or leave the flag out');
    }
  }
  if (flags.requireProof && flags.policyGate === undefined) {
    throw new InputError(
      'INVALID_INPUT',
      '--require-proof',
      'goes with --policy-gate <name> (the gate that failed); add it or drop --require-proof',
    );
  }
  if (flags.reason !== undefined && flags.manual === undefined) {
    throw new InputError(
      'INVALID_INPUT',
      '--reason',
      'goes with --manual <requestedBy> (who escalated); add it or drop --reason',
    );
  }
  return {
    ...(flags.policyGate !== undefined
      ? { policyGate: { name: flags.policyGate, requireProof: flags.requireProof === true } }
      : {}),
    ...(flags.manual !== undefined
      ? {
          manual: {
            requestedBy: flags.manual,
            ...(flags.reason !== undefined ? { reason: flags.reason } : {}),
          },
        }
      : {}),
  };
}

function readEdges(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(
      'INVALID_INPUT',
      '--edges',
      `${file} cannot be read (${(e as NodeJS.ErrnoException).code})`,
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new InputError(
      'INVALID_INPUT',
      '--edges',
      `${file} is not JSON; write a list like [{"from":"main","to":"parse"}]`,
    );
  }
}

/** Input fields as the flags that set them, most specific first. */
const FLAG_OF_FIELD: [RegExp, string][] = [
  [/^tenantId$/, '--tenant'],
  [/^scanId$/, '--scan-id'],
  [/^subject(\.|$)/, '--subject'],
  [/^graphDigest$/, '--graph-digest'],
  [/^scanner(\.|$)/, '--scanner'],
  [/^scanFinishedAt$/, '--finished-at'],
  [/^priority$/, '--priority'],
  [/^finding\.cveId$/, '--cve'],
  [/^finding\.cvss$/, '--cvss'],
  [/^finding\.reachable$/, '--reachable'],
  [/^edges(\.|\[|$)/, '--edges'],
  [/^escalation\.policyGate(\.|$)/, '--policy-gate'],
  [/^escalation\.manual\.reason$/, '--reason'],
  [/^escalation\.manual(\.|$)/, '--manual'],
];

/**
 * The producer's input error told in the terms of the command line: the
 * flag to fix (`--graph-digest`) instead of the input field (`graphDigest`).
 */
export function asFlagError(e: InputError): InputError {
  const flag = FLAG_OF_FIELD.find(([re]) => re.test(e.field))?.[1];
  if (flag === undefined) return e;
  const prefix = `${e.field}: `;
  const detail = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
  const inner = flag === '--subject' || flag === '--scanner' || flag === '--edges' ? ` (${e.field})` : '';
  return new InputError(e.code, flag, `${detail}${inner}`);
}

const DEFAULT_SCANNER = 'rekor-budget-cli@0.1.0';

function common(cmd: Command): Command {
  return cmd
    .requiredOption('--tenant <uuid>', 'tenant id')
    .requiredOption('--graph-digest <sha256:hex>', 'CallGraphSnapshot.GraphDigest')
    .requiredOption('--scan-id <id>', 'scan id')
    .requiredOption('--subject <name@sha256:hex>', 'the scanned artifact', subjectOf)
    .addOption(
      new Option('--scanner <name@version>', 'scanner name and version')
        .argParser(scannerOf)
        .default(scannerOf(DEFAULT_SCANNER), DEFAULT_SCANNER),
    )
    .requiredOption('--finished-at <time>', 'RFC 3339 time the scan finished (part of what is attested)')
    .option('--priority <n>', 'drain priority, -1000..1000', (v) => whole('--priority', 1000, -1000)(v))
    .option('--json', 'print the result as JSON');
}

export function registerSubmit(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const submit = program
    .command('submit')
    .description('submit an attestation through the producer (as a scanner would)');

  async function run(
    cmd: Command,
    flags: CommonFlags,
    send: (p: ReturnType<typeof createRekorProducer>, base: object) => Promise<unknown>,
  ) {
    const { config } = configFor(cmd.optsWithGlobals<GlobalOptions>(), io, { runEnv: true });
    const logger = createCliLogger(io, { stream: 'err' });
    const db = commandDb(config, logger);
    const producer = createRekorProducer({ config, db, logger });
    try {
      const base = {
        tenantId: flags.tenant,
        scanId: flags.scanId,
        subject: flags.subject,
        graphDigest: flags.graphDigest,
        scanner: flags.scanner,
        scanFinishedAt: flags.finishedAt,
        ...(flags.priority === undefined ? {} : { priority: flags.priority }),
      };
      let result: unknown;
      try {
        result = await send(producer, base);
      } catch (e) {
        throw e instanceof InputError ? asFlagError(e) : e;
      }
      io.out(flags.json ? JSON.stringify(result) : formatResult(result as Record<string, unknown>));
      setExit(EXIT.OK);
    } finally {
      await producer.close();
      await db.destroy();
    }
  }

  common(submit.command('graph').description('Tier 1: a graph attestation for a completed scan')).action(
    (flags: CommonFlags, cmd: Command) => run(cmd, flags, (p, base) => p.submitGraphAttestation(base)),
  );

  common(submit.command('edge').description('Tier 2: an edge bundle for an escalated finding'))
    .requiredOption('--cve <id>', 'CVE id, e.g. CVE-2024-3094')
    .requiredOption('--cvss <score>', 'CVSS base score, 0.0-10.0', cvss)
    .option('--reachable', 'the vulnerable code is reachable', false)
    .requiredOption('--edges <file>', 'JSON list of reachable-path edges [{"from","to","kind?"}]')
    .option('--policy-gate <name>', 'a policy gate that failed')
    .option('--require-proof', 'the failed gate has require_proof: true')
    .option('--manual <requestedBy>', 'a manual escalation by this person or team')
    .option('--reason <text>', 'reason of the manual escalation')
    .action((flags: EdgeFlags, cmd: Command) =>
      run(cmd, flags, (p, base) =>
        p.submitEdgeBundle({
          ...base,
          finding: { cveId: flags.cve, cvss: flags.cvss, reachable: flags.reachable },
          edges: readEdges(flags.edges),
          escalation: escalationOf(flags),
        }),
      ),
    );
}

function formatResult(r: Record<string, unknown>): string {
  const extra = r.triggers ? ` triggers=${(r.triggers as string[]).join(',')}` : '';
  const why = r.offlineReason ? ` (offline queue: ${r.offlineReason as string})` : '';
  return `${r.status as string}: job ${r.jobId as string}${extra}${why}`;
}
