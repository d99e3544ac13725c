import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Router, type Express, type RequestHandler } from 'express';
import { TIERS, type Logger } from '@rekor-budget/core';
import type { TierQueues } from '@rekor-budget/queue';
import { boardGuardScript, hiddenLabels } from './board-guard';
import { allowedQueueWrites } from './security';

export interface QueueBoardOptions {
  queues: Pick<TierQueues, 'get'>;
  /** Mount path, e.g. `/queues`. */
  basePath: string;
  /** bull-board's `readOnlyMode`: no retry, clean, pause, add or remove. */
  readOnly: boolean;
  logger: Logger;
}

/** Where the page loads the script that hides the controls of refused writes (under `basePath`). */
const GUARD_PATH = '/rekor-budget-guard.js';

/**
 * bull-board over both tier queues, as an Express router to mount at
 * `basePath`. Writes other than retry, promote, clean and pause are refused
 * (`allowedQueueWrites`) and their controls hidden in the page; read-only
 * mode refuses every write.
 */
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
  const board = serverAdapter.getRouter() as Express;
  // bull-board's own Express app would otherwise announce itself
  board.disable('x-powered-by');

  const script = boardGuardScript(hiddenLabels(options.logger));
  const router = Router();
  router.use(allowedQueueWrites);
  router.get(GUARD_PATH, (_req, res) => {
    res.type('application/javascript').set('Cache-Control', 'no-store').send(script);
  });
  router.use(withGuardScript(`${options.basePath.replace(/\/$/, '')}${GUARD_PATH}`));
  router.use(board);
  return router;
}

/** Adds the guard script to bull-board's HTML page (its only HTML answer). */
function withGuardScript(src: string): RequestHandler {
  const tag = `<script defer src="${src}"></script></body>`;
  return (req, res, next) => {
    if (req.method !== 'GET') return next();
    const send = res.send.bind(res);
    res.send = (body?: unknown) => {
      const html =
        typeof body === 'string' && /^text\/html/.test(String(res.get('Content-Type') ?? 'text/html'));
      return send(html && body.includes('</body>') ? body.replace('</body>', tag) : body);
    };
    next();
  };
}
