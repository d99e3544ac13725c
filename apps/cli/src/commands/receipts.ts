import type { Command } from 'commander';
import { isTenantId, InputError, receiptToJson } from '@rekor-budget/core';
import { createReceiptStore } from '@rekor-budget/queue';
import { configFor, type GlobalOptions } from '../context';
import { EXIT, type CliIo } from '../io';
import { createCliLogger } from '../logger';
import { commandDb } from '../wiring';
import { whole } from '../util';
import { registerReceiptsKit } from './receipts-kit';

interface ReceiptsFlags {
  tenant?: string;
  limit: number;
  json?: boolean;
}

/**
 * `receipts` lists receipts when called without a subcommand; `receipts
 * export` and `receipts import` carry them to an air-gapped site.
 */
export function registerReceipts(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const receipts = program
    .command('receipts')
    .description('list receipts (Rekor entries of logged attestations), newest first; or export/import them')
    .option('--tenant <uuid>', 'only this tenant')
    .option('--limit <n>', 'at most this many', whole('--limit', 100_000, 1), 100)
    .option('--json', 'print a JSON array with tenantId, tier, uuid, logIndex, integratedTime, bundle')
    .action(async (flags: ReceiptsFlags, cmd: Command) => {
      if (flags.tenant !== undefined && !isTenantId(flags.tenant)) {
        throw new InputError('INVALID_TENANT', '--tenant', `${JSON.stringify(flags.tenant)} is not a UUID`);
      }
      const { config } = configFor(cmd.optsWithGlobals<GlobalOptions>(), io, { runEnv: true });
      const db = commandDb(config, createCliLogger(io, { stream: 'err' }));
      try {
        const list = await createReceiptStore(db).list({
          ...(flags.tenant ? { tenantId: flags.tenant.toLowerCase() } : {}),
          limit: flags.limit,
        });
        if (flags.json) {
          io.out(JSON.stringify(list.map(receiptToJson)));
        } else if (list.length === 0) {
          io.out('no receipts');
        } else {
          for (const r of list) {
            io.out(
              `${r.integratedTime.toISOString()}  ${r.tier.padEnd(5)}  #${String(r.logIndex).padEnd(7)} ${r.tenantId}  ${r.uuid}`,
            );
          }
        }
        setExit(EXIT.OK);
      } finally {
        await db.destroy();
      }
    });
  registerReceiptsKit(receipts, io, setExit);
}
