import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { errorFields, type Logger } from '@rekor-budget/core';

/**
 * bull-board's UI shows every write it knows unless a queue is read-only;
 * the dashboard refuses most of them (see `allowedQueueWrites`), and this
 * script, loaded into bull-board's page, hides their controls: the queue
 * menu's add job, empty, obliterate, concurrency and rate-limit items (found
 * by their label, in every language bull-board ships), and the job cards'
 * duplicate, edit-data, reschedule and priority buttons (found by the action
 * key bull-board renders them under). It hides; the server refuses.
 */

/** Queue menu items, by their translation key under `QUEUE.ACTIONS`. */
const QUEUE_ACTIONS = ['ADD_JOB', 'EMPTY', 'OBLITERATE', 'SET_CONCURRENCY', 'SET_RATE_LIMIT'];
/** Job card buttons, by their translation key under `JOB.ACTIONS` (also their React key). */
const JOB_ACTIONS = ['UPDATE_DATA', 'DUPLICATE', 'RESCHEDULE', 'REPRIORITISE', 'REMOVE_UNPROCESSED_CHILDREN'];

/** English labels, if bull-board's translations cannot be read. */
const FALLBACK_LABELS = [
  'Add job',
  'Empty',
  'Obliterate',
  'Set concurrency',
  'Set rate limit',
  'Update Data',
  'Duplicate',
  'Reschedule',
  'Change priority',
];

/** The labels of the hidden controls in every locale bull-board ships. */
export function hiddenLabels(logger: Logger): string[] {
  const labels = new Set(FALLBACK_LABELS);
  try {
    const api = createRequire(require.resolve('@bull-board/api'));
    const dir = join(dirname(api.resolve('@bull-board/ui/package.json')), 'dist', 'static', 'locales');
    for (const locale of readdirSync(dir)) {
      const m = JSON.parse(readFileSync(join(dir, locale, 'messages.json'), 'utf8')) as {
        QUEUE?: { ACTIONS?: Record<string, unknown> };
        JOB?: { ACTIONS?: Record<string, unknown> };
      };
      for (const k of QUEUE_ACTIONS) addLabel(labels, m.QUEUE?.ACTIONS?.[k]);
      for (const k of JOB_ACTIONS) addLabel(labels, m.JOB?.ACTIONS?.[k]);
    }
  } catch (e) {
    logger.warn(
      errorFields(e),
      "bull-board's translations could not be read; hiding its write controls by their English labels only",
    );
  }
  return [...labels];
}

function addLabel(labels: Set<string>, value: unknown): void {
  if (typeof value === 'string' && value.trim() !== '') labels.add(value.trim());
}

/** The script's source. */
export function boardGuardScript(labels: readonly string[]): string {
  return `(() => {
  const labels = new Set(${JSON.stringify(labels)});
  const keys = new Set(${JSON.stringify(JOB_ACTIONS)});
  const hide = (el) => { if (el.style.display !== 'none') el.style.display = 'none'; };
  const reactKey = (el) => {
    const f = Object.keys(el).find((k) => k.startsWith('__reactFiber$'));
    return f ? el[f].key : undefined;
  };
  const sweep = () => {
    for (const el of document.querySelectorAll('[role="menuitem"], button')) {
      if (labels.has(el.textContent.trim())) hide(el);
    }
    for (const li of document.querySelectorAll('ul > li')) {
      if (keys.has(reactKey(li))) hide(li);
    }
  };
  new MutationObserver(sweep).observe(document.documentElement, { childList: true, subtree: true });
  sweep();
})();
`;
}
