import { renderBudgetPage, type BudgetView } from '@rekor-budget/dashboard';

const evil = '<script>alert("x")</script>&\'';

function view(): BudgetView {
  return {
    generatedAt: '2026-01-01T00:00:00.000Z',
    rekor: { state: 'unreachable', serverUrl: `http://rekor.example/${evil}`, detail: evil },
    activeTenants: 1,
    tenants: [
      {
        tenantId: evil,
        tiers: [
          {
            tier: 'graph',
            windows: [
              { name: 'hour', windowMs: 3_600_000, limit: 4, used: 1, remaining: 3 },
              { name: 'burst', windowMs: 600_000, limit: 2, used: 2, remaining: 0 },
            ],
            nextFreeSlot: evil,
            queuedJobs: 3,
            parkedJobs: 2,
            nextRelease: evil,
          },
        ],
        offlineRows: 1,
        rejected: 0,
        receipts: [{ tier: 'graph', logIndex: 42, uuid: evil, integratedTime: evil, contentDigest: evil }],
      },
    ],
  };
}

describe('budget page', () => {
  test('escapes every value it shows', () => {
    const page = renderBudgetPage(view());
    expect(page).not.toContain('<script>');
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

  test('says when the tenant list is capped', () => {
    const page = renderBudgetPage({ ...view(), activeTenants: 500 });
    expect(page).toMatch(/most recently active of 500 tenants/);
  });
});
