import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Router } from 'express';
import { TIERS } from '@rekor-budget/core';
import type { TierQueues } from '@rekor-budget/queue';

export interface QueueBoardOptions {
  queues: Pick<TierQueues, 'get'>;
  /** Mount path, e.g. `/queues`. */
  basePath: string;
  /** bull-board's `readOnlyMode`: no retry, clean, pause, add or remove. */
  readOnly: boolean;
}

/** bull-board over both tier queues, as an Express router to mount at `basePath`. */
export function queueBoard(options: QueueBoardOptions): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(options.basePath);
  createBullBoard({
    queues: TIERS.map(
      (tier) =>
        new BullMQAdapter(options.queues.get(tier), {
          readOnlyMode: options.readOnly,
          description: tier === 'graph' ? 'Tier 1: graph attestations' : 'Tier 2: edge bundles',
        }),
    ),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'rekor-budget' } },
  });
  return serverAdapter.getRouter() as Router;
}
