import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import express, { Router, type Express, type RequestHandler } from 'express';
import { TIERS, type Logger } from '@rekor-budget/core';
import type { TierQueues } from '@rekor-budget/queue';
import type { Job, Queue } from 'bullmq';
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
        new RunTimeAdapter(options.queues.get(tier), {
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
  // "delayed for" before the time a job waited to start reads as its delay; it is the wait
  router.get('/static/locales/:lng/messages.json', englishMessages);
  for (const family of Object.keys(FONTS))
    router.use(`/fonts/${family}`, express.static(fontDir(family), { index: false, fallthrough: false }));
  router.use(withGuardScript(`${options.basePath.replace(/\/$/, '')}${GUARD_PATH}`));
  router.use(board);
  return router;
}

/**
 * BullMQ records a retried or re-delayed job's delay relative to when it was
 * moved to the delayed set, while bull-board adds it to the time the job was
 * created: "will run at" would be wrong and "delay changed; run time unknown"
 * shown. The run time is in the delayed set's score; this adapter states the
 * delay from the job's creation to that time, so the page shows when it runs.
 */
class RunTimeAdapter extends BullMQAdapter {
  private readonly tierQueue: Queue;

  constructor(queue: Queue, options: ConstructorParameters<typeof BullMQAdapter>[1]) {
    super(queue, options);
    this.tierQueue = queue;
  }

  override async getJob(id: string): Promise<Job | undefined> {
    const job = await super.getJob(id);
    if (job) await withRunTimes(this.tierQueue, [job]);
    return job;
  }

  override async getJobs(...args: Parameters<BullMQAdapter['getJobs']>): Promise<Job[]> {
    const jobs = await super.getJobs(...args);
    await withRunTimes(this.tierQueue, jobs);
    return jobs;
  }
}

/** BullMQ's delayed-set score: run time (ms) times 4096 plus a counter. */
const DELAYED_SCORE_SHIFT = 0x1000;

async function withRunTimes(queue: Queue, jobs: Job[]): Promise<void> {
  if (jobs.length === 0) return;
  const client = await queue.client;
  const delayed = queue.keys.delayed!;
  const scores = await Promise.all(jobs.map((j) => client.zscore(delayed, j.id!)));
  jobs.forEach((job, i) => {
    const score = scores[i];
    if (score === null || score === undefined) return;
    const delay = Math.max(0, Math.floor(Number(score) / DELAYED_SCORE_SHIFT) - job.timestamp);
    job.delay = delay;
    job.opts = { ...job.opts, delay };
  });
}

/** bull-board's English messages, with the wait before a job started called a wait. */
const englishMessages: RequestHandler = (req, res, next) => {
  const lng = req.params.lng;
  if (lng !== 'en-US' && lng !== 'en-GB') return next();
  const messages = ENGLISH.get(lng) ?? loadEnglish(lng);
  res.type('application/json').set('Cache-Control', 'no-cache').send(messages);
};

const ENGLISH = new Map<string, string>();

function loadEnglish(lng: string): string {
  const file = join(
    dirname(require.resolve('@bull-board/ui/package.json')),
    'dist',
    'static',
    'locales',
    lng,
    'messages.json',
  );
  const messages = JSON.parse(readFileSync(file, 'utf8')) as { JOB: Record<string, string> };
  messages.JOB.DELAYED_FOR = 'waited';
  const text = JSON.stringify(messages);
  ENGLISH.set(lng, text);
  return text;
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
