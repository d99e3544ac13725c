import { relativeTime, renderBudgetPage, type BudgetView } from '@rekor-budget/dashboard';

const evil = '<script>alert("x")</script>&\'';

function view(): BudgetView {
  return {
    generatedAt: '2026-01-01T00:00:00.000Z',
    rekor: { state: 'unreachable', serverUrl: `http://rekor.example/${evil}`, detail: evil },
    activeTenants: 1,
    tenants: [
      {
        tenantId: evil,
        name: evil,
        utilization: 1,
        tiers: [
          {
            tier: 'graph',
            windows: [
              { name: 'hour', windowMs: 3_600_000, limit: 4, used: 1, remaining: 3 },
              { name: 'burst', windowMs: 600_000, limit: 2, used: 2, remaining: 0 },
            ],
            nextFreeSlot: evil,
            utilization: 1,
            queuedJobs: 3,
            parkedJobs: 2,
            nextRelease: evil,
          },
        ],
        offlineRows: 1,
        rejected: 0,
        receipts: [
          {
            tier: 'graph',
            logIndex: 42,
            uuid: evil,
            integratedTime: evil,
            contentDigest: evil,
            logUrl: evil,
            entryUrl: evil,
            bundlePath: evil,
          },
        ],
      },
    ],
  };
}

describe('budget page', () => {
  test('escapes every value it shows', () => {
    const page = renderBudgetPage(view());
    expect(page).not.toContain('<script>');
    expect(page).not.toMatch(/<script(?! defer src="budgets-time\.js"><\/script>)/);
    expect(page).not.toContain('"x"');
    expect(page).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;');
  });

  test('draws a bar per window with use and limit, and a full window in red', () => {
    const page = renderBudgetPage(view());
    expect(page).toMatch(/aria-label="hour"[^>]*aria-valuemax="4"\s+aria-valuenow="1"/);
    expect(page).toContain('style="width:25%"');
    expect(page).toMatch(/class="bar full"[^>]*aria-label="burst"/);
    expect(page).toContain('log index <b class="log-index">42</b>');
  });

  test('shows the timestamp authority only when one is configured, its values escaped', () => {
    expect(renderBudgetPage(view())).not.toContain('id="tsa"');
    const down = renderBudgetPage({
      ...view(),
      timestampAuthority: { url: `http://tsa.example/${evil}`, reachable: false, detail: evil, latencyMs: 3 },
    });
    expect(down).toMatch(/class="rekor unreachable" id="tsa">Timestamp authority unreachable/);
    expect(down).not.toContain('<script>');
    expect(down).toContain('http://tsa.example/&lt;script&gt;');
    const up = renderBudgetPage({
      ...view(),
      timestampAuthority: { url: 'http://tsa.example/ts', reachable: true, detail: 'granted', latencyMs: 7 },
    });
    expect(up).toMatch(
      /class="rekor reachable" id="tsa">Timestamp authority granting timestamps \(http:\/\/tsa\.example\/ts, 7 ms\)/,
    );
  });

  test('says when the tenant list is capped', () => {
    const page = renderBudgetPage({ ...view(), activeTenants: 500 });
    expect(page).toMatch(/showing 200 of 500 active tenants, the fullest first/);
  });

  test('shows a tenant by its display name, its UUID beside it', () => {
    const v = view();
    v.tenants[0] = { ...v.tenants[0]!, tenantId: '6f1d3c2a-0b4e-4f5a-9c8d-7e6f5a4b3c2d', name: 'acme' };
    const page = renderBudgetPage(v);
    expect(page).toMatch(
      /<span class="name">acme<\/span\s*><span class="id">6f1d3c2a-0b4e-4f5a-9c8d-7e6f5a4b3c2d<\/span>/,
    );
  });

  test('times read relative to the page, the exact instant kept for the browser to show locally', () => {
    const v = view();
    v.tenants[0]!.tiers[0]!.nextFreeSlot = '2026-01-01T00:09:30.000Z';
    const page = renderBudgetPage(v);
    expect(page).toMatch(
      /<time class="" datetime="2026-01-01T00:09:30.000Z" title="2026-01-01T00:09:30.000Z"\s*>in 10 min<\/time/,
    );
    const at = Date.parse('2026-01-01T12:00:00Z');
    expect(
      [0, 400, 42_000, -42_000, 125_000, -3 * 3_600_000 - 60_000, 2 * 86_400_000].map((d) =>
        relativeTime(at + d, at),
      ),
    ).toEqual(['now', 'now', 'in 42 s', '42 s ago', 'in 2 min', '3 h 1 min ago', 'in 2 d 0 h']);
    // near a unit's end, rounding carries into the next unit
    expect(
      [59_700, 3_599_000, 86_399_000, 2 * 86_400_000 - 60_000, 7_170_000].map((d) =>
        relativeTime(at + d, at),
      ),
    ).toEqual(['in 1 min', 'in 1 h 0 min', 'in 1 d 0 h', 'in 2 d 0 h', 'in 2 h 0 min']);
  });
});
