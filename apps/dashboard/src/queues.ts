import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { dirname } from 'node:path';
import express, { Router, type Express, type RequestHandler } from 'express';
import { TIERS, type Logger } from '@rekor-budget/core';
import type { TierQueues } from '@rekor-budget/queue';
import { boardGuardScript, hiddenLabels } from './board-guard';
import { allowedQueueWrites } from './security';

/** 24-hour local time with seconds, as in the rest of the dashboard. */
const TIME_OF_DAY = { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' } as const;

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
    options: {
      uiConfig: {
        boardTitle: 'rekor-budget',
        dateFormats: {
          short: TIME_OF_DAY,
          common: { month: 'short', day: 'numeric', ...TIME_OF_DAY },
          full: { year: 'numeric', month: 'short', day: 'numeric', ...TIME_OF_DAY },
        },
      },
    },
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
  // bull-board's fonts, served from here: the page makes no request beyond this dashboard
  for (const family of Object.keys(FONTS))
    router.use(`/fonts/${family}`, express.static(fontDir(family), { index: false, fallthrough: false }));
  router.use(withGuardScript(`${options.basePath.replace(/\/$/, '')}${GUARD_PATH}`));
  router.use(board);
  return router;
}

/** The font families and weights bull-board's page asks Google Fonts for. */
const FONTS: Record<string, readonly string[]> = {
  'ibm-plex-sans': ['400', '500', '600'],
  'ibm-plex-mono': ['400', '500'],
};

/** Where a font family's CSS and files are (the `@fontsource` package). */
function fontDir(family: string): string {
  return dirname(require.resolve(`@fontsource/${family}/400.css`));
}

/** bull-board's link to Google Fonts. */
const REMOTE_FONTS = /<link href="https:\/\/fonts\.googleapis\.com\/[^"]*" rel="stylesheet">/;

/** The same fonts from this dashboard (relative to the page's `<base href>`, the board's path). */
const LOCAL_FONTS = Object.entries(FONTS)
  .flatMap(([family, weights]) =>
    weights.map((w) => `<link href="fonts/${family}/${w}.css" rel="stylesheet">`),
  )
  .join('');

/**
 * Adds the guard script to bull-board's HTML page (its only HTML answer),
 * and points its font link at the fonts served here.
 */
function withGuardScript(src: string): RequestHandler {
  const tag = `<script defer src="${src}"></script></body>`;
  return (req, res, next) => {
    if (req.method !== 'GET') return next();
    const send = res.send.bind(res);
    res.send = (body?: unknown) => {
      const html =
        typeof body === 'string' && /^text\/html/.test(String(res.get('Content-Type') ?? 'text/html'));
      return send(
        html && body.includes('</body>')
          ? body.replace('</body>', tag).replace(REMOTE_FONTS, LOCAL_FONTS)
          : body,
      );
    };
    next();
  };
}
