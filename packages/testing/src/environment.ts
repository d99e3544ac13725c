import NodeEnvironment from 'jest-environment-node';

/**
 * Jest environment that fails a test file which leaves sockets, servers,
 * child processes or timers behind: everything it opens must be closed by the
 * end of the file (in `afterAll`).
 *
 * Handles are counted by type with `process.getActiveResourcesInfo()`
 * against a baseline taken before the file runs. Timers are tracked one by
 * one instead (jest keeps timers of its own), by wrapping the file's
 * `setTimeout`/`setInterval`: a referenced timer still pending at the end
 * is a leak; an `unref()`ed one is not.
 */
const COUNTED = new Set(['TCPSocketWrap', 'TCPServerWrap', 'TCPWrap', 'ProcessWrap', 'UDPWrap', 'Pipe']);
const SETTLE_MS = 3000;

type Timer = NodeJS.Timeout & { _destroyed?: boolean };

function counts(): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) {
    if (COUNTED.has(r)) m.set(r, (m.get(r) ?? 0) + 1);
  }
  return m;
}

export default class LeakCheckEnvironment extends NodeEnvironment {
  private baseline = new Map<string, number>();
  private readonly timers = new Set<Timer>();

  override async setup(): Promise<void> {
    await super.setup();
    this.baseline = counts();
    this.trackTimers();
  }

  private trackTimers(): void {
    const g = this.global as unknown as typeof globalThis;
    const timers = this.timers;
    const realSetTimeout = g.setTimeout;
    const realSetInterval = g.setInterval;
    const realClearTimeout = g.clearTimeout;
    const realClearInterval = g.clearInterval;
    g.setTimeout = Object.assign((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const t = realSetTimeout(
        (...a: unknown[]) => {
          timers.delete(t);
          fn(...a);
        },
        ms,
        ...args,
      ) as Timer;
      timers.add(t);
      return t;
    }, realSetTimeout) as typeof setTimeout;
    g.setInterval = Object.assign((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const t = realSetInterval(fn, ms, ...args) as Timer;
      timers.add(t);
      return t;
    }, realSetInterval) as typeof setInterval;
    g.clearTimeout = ((t?: Timer) => {
      if (t) timers.delete(t);
      realClearTimeout(t);
    }) as typeof clearTimeout;
    g.clearInterval = ((t?: Timer) => {
      if (t) timers.delete(t);
      realClearInterval(t);
    }) as typeof clearInterval;
  }

  private leaks(): string[] {
    const out: string[] = [];
    for (const [type, n] of counts()) {
      const extra = n - (this.baseline.get(type) ?? 0);
      if (extra > 0) out.push(`${extra} x ${type}`);
    }
    const timers = [...this.timers].filter((t) => !t._destroyed && t.hasRef()).length;
    if (timers > 0) out.push(`${timers} x timer`);
    return out;
  }

  override async teardown(): Promise<void> {
    const deadline = Date.now() + SETTLE_MS;
    let left = this.leaks();
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      left = this.leaks();
    }
    for (const t of this.timers) clearTimeout(t);
    await super.teardown();
    if (left.length > 0) {
      throw new Error(
        `this test file leaked ${left.join(', ')}: close every Redis/Postgres connection, server, worker and timer in afterAll`,
      );
    }
  }
}
