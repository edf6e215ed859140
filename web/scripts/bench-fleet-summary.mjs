// Min / median / max of several bench-fleet runs (their --json files), as
// the markdown table docs/FLEET.md shows:
//
//   node scripts/bench-fleet-summary.mjs run1.json run2.json run3.json
import { readFileSync } from 'node:fs';

const runs = process.argv.slice(2).map((f) => JSON.parse(readFileSync(f, 'utf8')));
if (runs.length === 0) throw new Error('usage: bench-fleet-summary.mjs FIGURES.json...');

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const f1 = (v) => (Number.isInteger(v) ? String(v) : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const MB = 1048576;
const secs = (r) => r.windowMs / 1000;
const perSession = (r) => r.db.keys.sessions;

// [figure, run -> number]
const figures = [
  ['pairing all sessions by QR (s)', (r) => r.pairMs / 1000],
  ['texts delivered, steady phase (texts/s)', (r) => r.steady.perSec],
  ['texts delivered, burst (texts/s)', (r) => r.burst.perSec],
  ...['keys.set', 'lease.renew'].flatMap((op) => [
    [`service: ${op} (calls/s)`, (r) => r.service.ops[op].count / secs(r)],
    ...['p50', 'p95', 'p99', 'max'].map((p) => [`service: ${op} ${p} (ms)`, (r) => r.service.ops[op][`${p}Ms`]]),
  ]),
  ['service: errors (all operations)', (r) => Object.values(r.service.ops).reduce((a, o) => a + Object.values(o.errors ?? {}).reduce((x, y) => x + y, 0), 0)],
  ...['p50', 'p95', 'p99', 'max'].map((p) => [`pages: keys.set ${p} (ms)`, (r) => r.pages.calls['keys.set'][p]]),
  ...['p50', 'p95', 'p99', 'max'].map((p) => [`pages: lease renewal request ${p} (ms)`, (r) => r.pages.requests['POST lease/renew'][p]]),
  ['pages: requests retried', (r) => r.pages.retries],
  ['pages: store calls failed', (r) => r.pages.errors.length],
  ['pages: leases lost', (r) => r.pages.lost.length],
  ['retry receipts and decryption failures', (r) => r.retryReceipts.length],
  ['texts shown twice', (r) => r.pages.repeats],
  ['… texts shown twice without redelivered: true', (r) => r.pages.unmarkedRepeats],
  ['fakewa resend rounds (a device left stanzas unacknowledged for 10 s)', (r) => r.serverResends],
  ['requests to the service in flight in one page, at most', (r) => Math.max(...r.pages.maxInFlight)],
  ['PostgreSQL connections in use, at most', (r) => r.pgConns.max],
  ['pool acquisitions that waited for a connection (%)', (r) => (100 * r.service.pool.emptyAcquireCount) / r.service.pool.acquireCount],
  ['memory per browser, PSS of all its processes (MB, mean of the browsers)', (r) => mean(r.memory.map((m) => m.total)) / MB],
  ['… of which the page\'s renderer (MB)', (r) => mean(r.memory.map((m) => m.renderer)) / MB],
  ['… the page\'s wasm linear memory, its clients together (MB)', (r) => mean(r.memory.map((m) => m.wasmLinear)) / MB],
  ['load average (1 min) during the measured phases, mean', (r) => r.load.mean],
  ['key rows per session', (r) => r.db.keys.rows / perSession(r)],
  ['sessiond_keys table and indexes per session (kB)', (r) => r.db.tables.sessiond_keys.bytes / perSession(r) / 1024],
  ['whole database per session (kB)', (r) => r.db.database / perSession(r) / 1024],
  ['rows written per second per session', (r) => r.dbWritten.rows / secs(r) / perSession(r)],
  ['WAL per text received (kB)', (r) => r.dbWritten.walBytes / (r.steady.sent + r.burst.sent) / 1024],
  ['keys.set calls per text received', (r) => r.service.ops['keys.set'].count / (r.steady.sent + r.burst.sent)],
];

const s = runs[0].sizes;
console.log(`${runs.length} runs: ${s.sessions} sessions over ${s.processes} chromium processes, ${s.duration} s at ${s.rate} texts/s per session, then a burst of ${s.burst}; `
  + `pool ${s.pool}${s.pgbouncer ? `, PgBouncer ${s.pgbouncer}` : ''}, pgx ${s.queryExecMode}, ${s.http ?? 'HTTP/1.1'}, lease TTL ${s.ttl} ms`);
console.log('| figure | median | min | max |\n|---|---:|---:|---:|');
for (const [name, get] of figures) {
  const xs = runs.map((r) => { try { return get(r); } catch { return NaN; } }).filter(Number.isFinite);
  if (xs.length === 0) { console.log(`| ${name} | – | – | – |`); continue; }
  console.log(`| ${name} | ${f1(median(xs))} | ${f1(Math.min(...xs))} | ${f1(Math.max(...xs))} |`);
}
