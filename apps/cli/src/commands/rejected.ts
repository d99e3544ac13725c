import type { Command } from 'commander';
import { InputError, isTenantId } from '@rekor-budget/core';
import { SUBMISSION_JOB, submissionJobOptions, type RejectedSubmission } from '@rekor-budget/queue';
import type { Runtime } from '@rekor-budget/runtime';
import { configFor, type GlobalOptions } from '../context';
import { EXIT, type CliIo } from '../io';
import { createCliLogger } from '../logger';
import { whole } from '../util';
import { commandRuntime } from '../wiring';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function checkId(id: string): string {
  if (!UUID_RE.test(id)) {
    throw new InputError(
      'INVALID_INPUT',
      '<id>',
      `${JSON.stringify(id)} is not a row id; copy it from \`rekor-budget rejected list\``,
    );
  }
  return id.toLowerCase();
}

function view(r: RejectedSubmission) {
  return {
    id: r.id,
    tenantId: r.tenantId,
    tier: r.tier,
    contentDigest: r.contentDigest,
    reason: r.reason,
    ...(r.httpStatus === undefined ? {} : { httpStatus: r.httpStatus }),
    message: r.message,
    logUrl: r.logUrl,
    rejectedAt: r.rejectedAt.toISOString(),
  };
}

/** Runs `fn` on a one-shot runtime, closed after. */
async function withRuntime(cmd: Command, io: CliIo, fn: (rt: Runtime) => Promise<void>): Promise<void> {
  const { config } = configFor(cmd.optsWithGlobals<GlobalOptions>(), io, { runEnv: true });
  const runtime = await commandRuntime(config, createCliLogger(io, { stream: 'err' }));
  try {
    await fn(runtime);
  } finally {
    await runtime.close();
  }
}

/** Puts a refused submission back into its tier queue (with its envelope) and removes the row. */
async function retry(rt: Runtime, row: RejectedSubmission): Promise<void> {
  const data = { ...row.data, ...(row.envelope ? { envelope: row.envelope } : {}) };
  // the row id is the job id: unique per refusal, so an earlier job of the content cannot swallow it
  await rt.queues.get(row.tier).add(SUBMISSION_JOB, data, submissionJobOptions(rt.config, row.id));
  await rt.rejected.remove(row.id);
}

/**
 * `rekor-budget rejected list|retry|discard`: the submissions Rekor refused
 * for good (400/413/422, a frozen shard, a malformed answer, an input that
 * does not validate). Nothing is dropped silently: an operator decides.
 */
export function registerRejected(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const rejected = program
    .command('rejected')
    .description(
      'submissions Rekor refused for good: list them, put them back in the queue, or discard them',
    );

  rejected
    .command('list')
    .description('refused submissions, newest first, with the reason')
    .option('--tenant <uuid>', 'only this tenant')
    .option('--limit <n>', 'at most this many', whole('--limit', 100_000, 1), 100)
    .option('--json', 'print a JSON array')
    .action(async (flags: { tenant?: string; limit: number; json?: boolean }, cmd: Command) => {
      if (flags.tenant !== undefined && !isTenantId(flags.tenant)) {
        throw new InputError('INVALID_TENANT', '--tenant', `${JSON.stringify(flags.tenant)} is not a UUID`);
      }
      await withRuntime(cmd, io, async (rt) => {
        const rows = await rt.rejected.list({
          ...(flags.tenant ? { tenantId: flags.tenant.toLowerCase() } : {}),
          limit: flags.limit,
        });
        if (flags.json) io.out(JSON.stringify(rows.map(view), null, 2));
        else if (rows.length === 0) io.out('no rejected submissions');
        else {
          for (const r of rows) {
            io.out(
              `${r.id}  ${r.rejectedAt.toISOString()}  ${r.tier.padEnd(5)} ${r.tenantId}  ${r.reason}${r.httpStatus ? ` (HTTP ${r.httpStatus})` : ''}: ${r.message}`,
            );
          }
        }
        setExit(EXIT.OK);
      });
    });

  rejected
    .command('retry')
    .description('put refused submissions back into their tier queue, as signed (after fixing the cause)')
    .argument('[id...]', 'row ids from `rejected list`')
    .option('--all', 'every refused submission')
    .action(async (ids: string[], flags: { all?: boolean }, cmd: Command) => {
      if (!flags.all && ids.length === 0) {
        throw new InputError('INVALID_INPUT', '<id>', 'name the rows to retry, or pass --all');
      }
      const wanted = ids.map(checkId);
      await withRuntime(cmd, io, async (rt) => {
        const rows = flags.all
          ? await rt.rejected.list({ limit: 100_000 })
          : (await Promise.all(wanted.map((id) => rt.rejected.get(id)))).filter(
              (r): r is RejectedSubmission => r !== undefined,
            );
        const missing = wanted.filter((id) => !rows.some((r) => r.id === id));
        for (const row of rows) await retry(rt, row);
        io.out(`put ${rows.length} submission(s) back into the queue`);
        if (missing.length > 0) io.err(`no rejected submission with id ${missing.join(', ')}`);
        setExit(missing.length > 0 ? EXIT.FAILURE : EXIT.OK);
      });
    });

  rejected
    .command('discard')
    .description('drop refused submissions for good (they are not logged)')
    .argument('<id...>', 'row ids from `rejected list`')
    .action(async (ids: string[], _flags: unknown, cmd: Command) => {
      const wanted = ids.map(checkId);
      await withRuntime(cmd, io, async (rt) => {
        const removed = await Promise.all(wanted.map((id) => rt.rejected.remove(id)));
        const missing = wanted.filter((_, i) => !removed[i]);
        io.out(`discarded ${removed.filter(Boolean).length} submission(s)`);
        if (missing.length > 0) io.err(`no rejected submission with id ${missing.join(', ')}`);
        setExit(missing.length > 0 ? EXIT.FAILURE : EXIT.OK);
      });
    });
}
