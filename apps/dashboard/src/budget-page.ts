import type { WindowStatus } from '@rekor-budget/budget';
import type { BudgetView, TenantView, TierView, TimestampAuthorityView } from './budget-view';
import { MAX_TENANTS } from './budget-view';
import { html, Raw } from './html';
import type { RekorReachability } from '@rekor-budget/runtime';

const CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:12px 24px;display:flex;gap:24px;align-items:center}
header a{color:#9ecbff}main{padding:16px 24px}
.rekor{padding:10px 14px;border-radius:6px;margin-bottom:16px;font-weight:600}
.rekor.reachable{background:#dff5e3}.rekor.unreachable{background:#fde2e1}.rekor.air-gapped{background:#fff4d6}
.tenant{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:12px 16px;margin-bottom:14px}
.tenant h2{font-size:15px;margin:0 0 8px;font-family:ui-monospace,monospace}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:4px 8px;vertical-align:top}
th{font-weight:600;color:#556}
.bar{display:inline-block;width:160px;height:10px;background:#e6e9ee;border-radius:5px;overflow:hidden;vertical-align:middle}
.bar span{display:block;height:100%;background:#3b82f6}.bar.full span{background:#dc2626}
.mono{font-family:ui-monospace,monospace;font-size:12px}.muted{color:#778}
.tenant h2 .id{font-weight:400;color:#778;font-size:12px;margin-left:8px}
.receipts a{margin-left:6px}
`;

/** "in 4 min", "2 h ago", "now": how far `atMs` is from `nowMs`. */
export function relativeTime(atMs: number, nowMs: number): string {
  if (!Number.isFinite(atMs) || !Number.isFinite(nowMs)) return 'unknown';
  const d = atMs - nowMs;
  const abs = Math.abs(d);
  if (abs < 1_000) return 'now';
  // rounded once to the unit shown, then split: never "60 min" or "24 h"
  const s = Math.round(abs / 1_000);
  const m = Math.round(abs / 60_000);
  const h = Math.round(abs / 3_600_000);
  const text =
    s < 60
      ? `${s} s`
      : m < 60
        ? `${m} min`
        : m < 1_440
          ? `${Math.floor(m / 60)} h ${m % 60} min`
          : `${Math.floor(h / 24)} d ${h % 24} h`;
  return d > 0 ? `in ${text}` : `${text} ago`;
}

/**
 * A time as people read it: relative to now, then (in the browser, by the
 * script below) with the local clock time; the exact UTC instant on hover.
 */
function time(iso: string, nowMs: number, cls = ''): Raw {
  return html`<time class="${cls}" datetime="${iso}" title="${iso}"
    >${relativeTime(Date.parse(iso), nowMs)}</time
  >`;
}

/** Rewrites every <time> in the reader's local time zone, 24-hour, after its relative form (served as `/budgets-time.js`). */
export const LOCAL_TIMES_SCRIPT = `
(function () {
  function rel(ms) {
    var a = Math.abs(ms), s = Math.round(a / 1000), m = Math.round(a / 60000), h = Math.round(a / 3600000), t;
    if (a < 1000) return 'now';
    if (s < 60) t = s + ' s';
    else if (m < 60) t = m + ' min';
    else if (m < 1440) t = Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
    else t = Math.floor(h / 24) + ' d ' + (h % 24) + ' h';
    return ms > 0 ? 'in ' + t : t + ' ago';
  }
  var opts = { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' };
  document.querySelectorAll('time[datetime]').forEach(function (el) {
    var d = new Date(el.getAttribute('datetime'));
    if (isNaN(d)) return;
    var sameDay = new Date().toDateString() === d.toDateString();
    var local = sameDay ? d.toLocaleTimeString([], opts)
      : d.toLocaleString([], Object.assign({ month: 'short', day: 'numeric' }, opts));
    el.textContent = rel(d.getTime() - Date.now()) + ' (' + local + ')';
    el.title = d.toString();
  });
})();
`;

function bar(w: WindowStatus): Raw {
  const pct = w.limit > 0 ? Math.min(100, Math.round((w.used / w.limit) * 100)) : 100;
  return html`<div class="window" data-window="${w.name}">
    <span
      class="bar${w.remaining === 0 ? ' full' : ''}"
      role="meter"
      aria-label="${w.name}"
      aria-valuemin="0"
      aria-valuemax="${w.limit}"
      aria-valuenow="${w.used}"
      ><span style="width:${pct}%"></span
    ></span>
    ${w.name}: ${w.used} / ${w.limit}
  </div>`;
}

function tierRow(t: TierView, nowMs: number): Raw {
  return html`<tr data-tier="${t.tier}">
    <td>${t.tier}</td>
    <td>${t.windows.map(bar)}</td>
    <td class="next-slot">${t.nextFreeSlot === 'now' ? 'now' : time(t.nextFreeSlot, nowMs)}</td>
    <td class="queued">${t.queuedJobs}</td>
    <td class="parked">${t.parkedJobs}</td>
    <td class="next-release">${t.nextRelease === null ? '-' : time(t.nextRelease, nowMs)}</td>
  </tr>`;
}

function tenantSection(t: TenantView, nowMs: number): Raw {
  const receipts =
    t.receipts.length === 0
      ? html`<span class="muted">none yet</span>`
      : html`<ul class="receipts">
          ${t.receipts.map(
            (r) =>
              html`<li>
                log index <b class="log-index">${r.logIndex}</b>
                <span class="muted">${r.tier}, ${time(r.integratedTime, nowMs, 'integrated')}</span>
                <span class="mono">${r.uuid}</span>
                ${r.entryUrl && /^https?:\/\//.test(r.entryUrl) ? html`<a class="entry" href="${r.entryUrl}" rel="noreferrer">log entry</a>` : ''}
                <a class="bundle" href="${r.bundlePath}">bundle</a>
              </li>`,
          )}
        </ul>`;
  return html`<section class="tenant" data-tenant="${t.tenantId}">
    <h2>
      <span class="name">${t.name ?? t.tenantId}</span
      >${t.name ? html`<span class="id">${t.tenantId}</span>` : ''}
    </h2>
    <table>
      <thead>
        <tr>
          <th>tier</th>
          <th>use / limit per window</th>
          <th>next free slot</th>
          <th>queued</th>
          <th>parked</th>
          <th>next release</th>
        </tr>
      </thead>
      <tbody>
        ${t.tiers.map((x) => tierRow(x, nowMs))}
      </tbody>
    </table>
    <p>
      offline rows: <b class="offline-rows">${t.offlineRows}</b>; rejected, waiting for an operator:
      <b class="rejected">${t.rejected}</b>
    </p>
    <div>recent receipts: ${receipts}</div>
  </section>`;
}

function rekorBanner(r: RekorReachability): Raw {
  const text =
    r.state === 'reachable'
      ? html`Rekor reachable (${r.serverUrl}${r.treeSize === undefined ? '' : `, ${r.treeSize} entries`},
        ${r.latencyMs} ms)`
      : r.state === 'air-gapped'
        ? html`Rekor: air-gapped (submissions are signed and stored locally)`
        : html`Rekor unreachable (${r.serverUrl}: ${r.detail})`;
  return html`<div class="rekor ${r.state}" id="rekor">${text}</div>`;
}

function timestampAuthorityBanner(t: TimestampAuthorityView | undefined): Raw | undefined {
  if (!t) return undefined;
  const text = t.reachable
    ? html`Timestamp authority granting timestamps (${t.url}, ${t.latencyMs} ms)`
    : html`Timestamp authority unreachable (${t.url}: ${t.detail}); submissions that need a timestamp wait in
      the offline queue until it grants one`;
  return html`<div class="rekor ${t.reachable ? 'reachable' : 'unreachable'}" id="tsa">${text}</div>`;
}

/** The `/budgets` page, every value escaped. */
export function renderBudgetPage(view: BudgetView): string {
  const nowMs = Date.parse(view.generatedAt);
  const capped =
    view.activeTenants > view.tenants.length
      ? html`<p class="muted">
          showing ${MAX_TENANTS} of ${view.activeTenants} active tenants, the fullest first
        </p>`
      : '';
  const body =
    view.tenants.length === 0
      ? html`<p class="muted">no tenant was active in the last 24 hours</p>`
      : view.tenants.map((t) => tenantSection(t, nowMs));
  return `<!doctype html>${html`<html lang="en">
    <head>
      <meta charset="utf-8" />
      <title>Budgets - rekor-budget</title>
      <style>
        ${new Raw(CSS)}
      </style>
    </head>
    <body>
      <header>
        <b>rekor-budget</b><a href="budgets">Budgets</a><a href="queues">Queues</a>
        <a href="budgets.json">JSON</a><span class="muted">as of ${time(view.generatedAt, nowMs)}</span>
      </header>
      <main>
        ${rekorBanner(view.rekor)} ${timestampAuthorityBanner(view.timestampAuthority)}
        <p>${view.activeTenants} tenant(s) active in the last 24 h or with parked jobs</p>
        ${capped}${body}
      </main>
      <script defer src="budgets-time.js"></script>
    </body>
  </html>`}`;
}
