import type { Command } from 'commander';
import { TIERS } from '@rekor-budget/core';
import { Drainer } from '@rekor-budget/worker';
import { configFor, redactUrl, type GlobalOptions } from '../context';
import { EXIT, type CliIo } from '../io';
import { createCliLogger } from '../logger';
import { commandRuntime } from '../wiring';

export function registerDrain(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('drain')
    .description('probe Rekor now and, if it answers, move the offline queue back into the tier queues')
    .option('--json', 'print the result as JSON')
    .action(async (flags: { json?: boolean }, cmd: Command) => {
      const { config } = configFor(cmd.optsWithGlobals<GlobalOptions>(), io, { runEnv: true });
      const runtime = await commandRuntime(config, createCliLogger(io, { stream: 'err' }));
      const drainer = new Drainer({ runtime, force: true });
      try {
        const report = await drainer.drainOnce();
        if (flags.json) io.out(JSON.stringify(report));
        else if (config.offline.airGapped)
          io.out('air-gapped mode: nothing is drained; use `offline export`');
        else if (!report.rekorUp)
          io.out(`Rekor at ${redactUrl(config.serverUrl)} does not answer; nothing was moved`);
        else {
          io.out(
            `moved ${report.moved.graph} graph and ${report.moved.edge} edge submissions back to the queues`,
          );
          for (const tier of TIERS) {
            if (report.heldBack[tier] === 0) continue;
            io.out(
              `${report.heldBack[tier]} ${tier} submissions stay in the offline queue: the ${tier} queue holds ` +
                `half of offline.maxQueueSize (${config.offline.maxQueueSize}) or more; they move as it empties ` +
                '(the drain worker checks every probe interval), or raise offline.maxQueueSize',
            );
          }
          const tsa = report.timestampAuthority;
          if (tsa && !tsa.reachable) {
            io.out(
              `submissions waiting for the timestamp authority stay in the offline queue: ${tsa.url} grants no timestamp (${tsa.detail}); ` +
                'they move once it does (the drain worker checks every probe interval)',
            );
          }
        }
        setExit(report.rekorUp ? EXIT.OK : EXIT.FAILURE);
      } finally {
        await drainer.stop();
        await runtime.close();
      }
    });
}
