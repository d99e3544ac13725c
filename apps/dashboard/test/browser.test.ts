import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { startDashboard, type BudgetView, type RunningDashboard } from '@rekor-budget/dashboard';
import { BUSY_NAME, createFixture, PASSWORD, QUIET_NAME, USER, type Fixture } from './fixture';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // the network beyond this machine is off: anything the pages fetch must come from the dashboard
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
];

/** A URL on this machine (the dashboard, rekor-local). */
function loopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}
const ARTIFACTS = join(__dirname, '..', '..', '..', 'test-artifacts');

// In CI a missing browser is a failure; elsewhere the file is skipped with a note.
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !process.env.CI) {
  console.warn(
    `browser test skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
  );
}
const describeBrowser = haveChromium || process.env.CI ? describe : describe.skip;

jest.setTimeout(90_000);

describeBrowser('dashboard in a browser', () => {
  let fixture: Fixture | undefined;
  let dashboard: RunningDashboard | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`no Chromium at ${CHROMIUM}: install the Debian package chromium`);
    mkdirSync(ARTIFACTS, { recursive: true });
    fixture = await createFixture();
    dashboard = await startDashboard({ runtime: fixture.runtime, port: 0, host: '127.0.0.1' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  });

  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
    await fixture?.close();
  });

  /** Requests that left this machine (refused) or failed, per page context. */
  const trouble = new WeakMap<BrowserContext, string[]>();

  async function page() {
    const context = await browser!.newContext({
      httpCredentials: { username: USER, password: PASSWORD },
      viewport: { width: 1280, height: 900 },
    });
    const seen: string[] = [];
    trouble.set(context, seen);
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith('data:') || loopback(url)) return route.continue();
      seen.push(`external: ${url}`);
      return route.abort('blockedbyclient');
    });
    context.on('requestfailed', (r) => seen.push(`failed: ${r.url()} (${r.failure()?.errorText})`));
    context.on('response', (r) => {
      if (r.status() >= 400) seen.push(`${r.status()}: ${r.url()}`);
    });
    return { context, page: await context.newPage() };
  }

  /** Every request of the context stayed on this machine and succeeded. */
  function expectNoFailedRequests(context: BrowserContext): void {
    expect(trouble.get(context)).toEqual([]);
  }

  test('/queues lists both tier queues with their counts', async () => {
    const { context, page: p } = await page();
    try {
      const response = await p.goto(`${dashboard!.url}/queues`);
      expect(response?.status()).toBe(200);
      // one card per tier queue, with its job total
      const card = (name: string) =>
        p.locator('li', { has: p.getByRole('link', { name, exact: true }) }).last();
      await card('rekor-graph').getByText('9 Jobs').waitFor();
      await card('rekor-edge').getByText('0 Jobs').waitFor();
      // the status tabs count what the worker did: 6 completed (3 logged, 3 parked for budget), 3 delayed for a retry
      await p.getByRole('link', { name: /^COMPLETED\s*6$/ }).waitFor();
      await p.getByRole('link', { name: /^DELAYED\s*3$/ }).waitFor();
      // bull-board's fonts came from the dashboard, and were used
      await p.waitForLoadState('networkidle');
      await expect(p.evaluate('document.fonts.check(\'14px "IBM Plex Sans"\')')).resolves.toBe(true);
      await expect(
        p
          .locator('link[rel="stylesheet"]')
          .evaluateAll((links) => links.map((l) => (l as unknown as { href: string }).href)),
      ).resolves.toEqual(expect.arrayContaining([`${dashboard!.url}/queues/fonts/ibm-plex-sans/400.css`]));
      await p.screenshot({ path: join(ARTIFACTS, 'dashboard-queues.png'), fullPage: true });
      expectNoFailedRequests(context);

      await p.getByRole('link', { name: 'rekor-graph', exact: true }).first().click();
      await p.waitForURL(/\/queues\/queue\/rekor-graph/);
      await p.getByRole('link', { name: /^DELAYED\s*3$/ }).click();
      await p.waitForURL(/status=delayed/);
      // the three delayed jobs, all of the busy tenant
      await p.getByText('Will run at').first().waitFor();
      expect(await p.getByText('Will run at').count()).toBe(3);
      expect(await p.getByText(fixture!.busyTenant).count()).toBe(3);
      // times in 24-hour form, never "AM"/"PM"; the run time is known, the wait is not called a delay
      const text = await p.locator('main').innerText();
      expect(text).not.toMatch(/\b(AM|PM)\b/);
      expect(text).not.toMatch(/Delay changed|delayed for/i);
      await p.screenshot({ path: join(ARTIFACTS, 'dashboard-queue-graph-delayed.png'), fullPage: true });
      expectNoFailedRequests(context);
    } finally {
      await context.close();
    }
  });

  test('/queues hides the controls of writes the dashboard refuses (add, edit, empty, obliterate)', async () => {
    const { context, page: p } = await page();
    try {
      await p.goto(`${dashboard!.url}/queues/queue/rekor-graph?status=delayed`);
      await p.getByText('Will run at').first().waitFor();
      // each delayed job keeps promote and clean; reschedule, duplicate and edit data are hidden
      const actions = p.locator('ul[class*="jobActions"]');
      await expect(actions.count()).resolves.toBe(3);
      for (const list of await actions.all()) {
        await expect(list.locator('li:visible').count()).resolves.toBe(2);
        await expect(list.locator('li').count()).resolves.toBe(5);
      }
      // the queue menu keeps pause, without add job, empty or obliterate
      await p.locator('button[class*="trigger"]:visible').last().click();
      await p.getByRole('menuitem', { name: 'Pause', exact: true }).waitFor();
      for (const name of ['Add job', 'Empty', 'Obliterate', 'Set concurrency'])
        await expect(p.getByRole('menuitem', { name, exact: true }).isVisible()).resolves.toBe(false);
      await p.screenshot({ path: join(ARTIFACTS, 'dashboard-queue-menu.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });

  test('/budgets shows Rekor, each tenant, bars, queued and parked jobs, offline rows and receipts', async () => {
    const { context, page: p } = await page();
    try {
      const response = await p.goto(`${dashboard!.url}/budgets`);
      expect(response?.status()).toBe(200);
      await expect(p.locator('#rekor').innerText()).resolves.toMatch(/Rekor reachable/);

      const busy = p.locator(`section[data-tenant="${fixture!.busyTenant}"]`);
      const quiet = p.locator(`section[data-tenant="${fixture!.quietTenant}"]`);
      // by display name, the UUID beside it, the fullest tenant first
      await expect(busy.locator('h2 .name').innerText()).resolves.toBe(BUSY_NAME);
      await expect(busy.locator('h2 .id').innerText()).resolves.toBe(fixture!.busyTenant);
      await expect(quiet.locator('h2 .name').innerText()).resolves.toBe(QUIET_NAME);
      await expect(p.locator('section.tenant h2 .name').allInnerTexts()).resolves.toEqual([
        BUSY_NAME,
        QUIET_NAME,
      ]);

      // bars: graph hour 2/3 and burst 2/2 (full), edge day 0/50
      const graph = busy.locator('tr[data-tier="graph"]');
      await expect(graph.locator('[aria-label="hour"]').getAttribute('aria-valuenow')).resolves.toBe('2');
      await expect(graph.locator('[aria-label="hour"]').getAttribute('aria-valuemax')).resolves.toBe('3');
      await expect(graph.locator('[aria-label="burst"]').getAttribute('aria-valuenow')).resolves.toBe('2');
      await expect(graph.locator('[aria-label="burst"]').getAttribute('aria-valuemax')).resolves.toBe('2');
      await expect(graph.innerText()).resolves.toMatch(/hour: 2 \/ 3[\s\S]*burst: 2 \/ 2/);
      await expect(
        busy.locator('tr[data-tier="edge"] [aria-label="day"]').getAttribute('aria-valuemax'),
      ).resolves.toBe('50');
      const fullWidth = await graph
        .locator('[aria-label="burst"] span')
        .evaluate((el) => el.getBoundingClientRect().width);
      expect(fullWidth).toBeGreaterThan(100);

      // next free slot: relative, with the local 24-hour time, for the busy tenant; now for the quiet one
      await expect(graph.locator('.next-slot').innerText()).resolves.toMatch(
        /^in \d+ (s|min)( \d+ min)? \(\d\d:\d\d:\d\d\)$/,
      );
      await expect(quiet.locator('tr[data-tier="graph"] .next-slot').innerText()).resolves.toBe('now');
      await expect(graph.locator('.parked').innerText()).resolves.toBe('3');
      await expect(graph.locator('.queued').innerText()).resolves.toBe('3');
      // the next release likewise
      await expect(graph.locator('.next-release').innerText()).resolves.toMatch(
        /^in \d+ (s|min)( \d+ min)? \(\d\d:\d\d:\d\d\)$/,
      );
      await expect(quiet.locator('tr[data-tier="graph"] .parked').innerText()).resolves.toBe('0');
      await expect(quiet.locator('tr[data-tier="graph"] .next-release').innerText()).resolves.toBe('-');
      await expect(busy.locator('.offline-rows').innerText()).resolves.toBe('1');
      await expect(quiet.locator('.offline-rows').innerText()).resolves.toBe('0');

      // receipts with their log index, as stored
      const shown = async (l: typeof busy) =>
        (await l.locator('.log-index').allInnerTexts()).map(Number).sort();
      expect(await shown(busy)).toEqual((await fixture!.logIndexes(fixture!.busyTenant)).sort());
      expect(await shown(quiet)).toEqual(await fixture!.logIndexes(fixture!.quietTenant));
      expect(await shown(busy)).toHaveLength(2);
      await expect(busy.locator('.receipts time').first().innerText()).resolves.toMatch(
        /^(now|\d+ (s|min) ago) \(\d\d:\d\d:\d\d\)$/,
      );

      // each receipt links to its entry in the log and to its bundle, both answering
      const entry = await busy.locator('a.entry').first().getAttribute('href');
      expect(entry).toMatch(new RegExp(`^${fixture!.rekor.url}/api/v1/log/entries/[0-9a-f]+$`));
      const logged = await context.request.get(entry!);
      expect(logged.status()).toBe(200);
      await logged.dispose();
      await busy.locator('a.bundle').first().click();
      await p.waitForURL(/\/receipts\/sha256%3A[0-9a-f]{64}\/bundle\.json\?log=/);
      const bundle = JSON.parse(await p.locator('body').innerText()) as { mediaType?: string };
      expect(bundle.mediaType).toMatch(/^application\/vnd\.dev\.sigstore\.bundle/);
      await p.goBack();

      await p.screenshot({ path: join(ARTIFACTS, 'dashboard-budgets.png'), fullPage: true });
      expectNoFailedRequests(context);
    } finally {
      await context.close();
    }
  });

  test('/budgets.json carries the same data', async () => {
    const { context } = await page();
    try {
      const r = await context.request.get(`${dashboard!.url}/budgets.json`);
      expect(r.status()).toBe(200);
      const view = (await r.json()) as BudgetView;
      await r.dispose();
      expect(view.rekor.state).toBe('reachable');
      const busy = view.tenants.find((t) => t.tenantId === fixture!.busyTenant)!;
      expect(busy.offlineRows).toBe(1);
      expect(busy.rejected).toBe(0);
      const graph = busy.tiers.find((t) => t.tier === 'graph')!;
      expect(graph).toMatchObject({ parkedJobs: 3, queuedJobs: 3 });
      expect(Date.parse(graph.nextRelease!)).toBeGreaterThan(Date.now());
      expect(graph.windows.map((w) => [w.name, w.used, w.limit])).toEqual([
        ['hour', 2, 3],
        ['burst', 2, 2],
      ]);
      expect(busy.receipts.map((x) => x.logIndex).sort()).toEqual(
        (await fixture!.logIndexes(fixture!.busyTenant)).sort(),
      );
    } finally {
      await context.close();
    }
  });

  test('without credentials the browser is refused (401, basic auth challenge)', async () => {
    const context = await browser!.newContext();
    try {
      const p = await context.newPage();
      // headless Chromium answers a basic auth challenge it cannot meet with this error
      await expect(p.goto(`${dashboard!.url}/budgets`)).rejects.toThrow(/ERR_INVALID_AUTH_CREDENTIALS/);
      const r = await context.request.get(`${dashboard!.url}/queues`);
      expect(r.status()).toBe(401);
      expect(r.headers()['www-authenticate']).toMatch(/^Basic /);
      await r.dispose();
    } finally {
      await context.close();
    }
  });
});
