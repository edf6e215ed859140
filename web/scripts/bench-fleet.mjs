// Fleet benchmark in browsers (`make bench-fleet`, docs/FLEET.md): many
// wasmeow sessions spread over several chromium processes (each a separate
// launch with one page holding its share of the clients, custom strategy on
// httpKeyStore) against one wasmeow-sessiond on one throwaway PostgreSQL,
// with fakewa's simulated phones sending texts to every session: a steady
// rate per session, then a burst. Every session is paired as a user would:
// the page shows a QR, a simulated phone scans it. Prints a markdown table
// of what the pages and the service measured; --json writes the figures.
//
//   node scripts/bench-fleet.mjs [--sessions 200] [--processes 4] [--duration 30]
//        [--rate 0.5] [--burst 10] [--pool 20] [--ttl 30000] [--pair-concurrency 4] [--json FILE]
//        [--pgbouncer 10 --query-exec-mode exec]   (the service through PgBouncer in transaction mode)
//        [--tls]   (the service over HTTPS: HTTP/2 from the pages)
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startStatic, startFakewa, launchPersistent, decryptFailures } from '../test-support/e2e.js';
import { startSessiond } from '../test-support/sessiond.js';
import { processRSS } from '../test-support/procmem.js';

const { values: opt } = parseArgs({
  options: {
    sessions: { type: 'string', default: '200' },
    processes: { type: 'string', default: '4' },
    duration: { type: 'string', default: '30' }, // s of steady traffic
    rate: { type: 'string', default: '0.5' }, // texts per second per session in the steady phase
    burst: { type: 'string', default: '10' }, // texts per session sent at once after it
    pool: { type: 'string', default: '20' }, // the service's PostgreSQL connections (pool_max_conns)
    ttl: { type: 'string', default: '30000' }, // leaseTtlMs (renewed every third of it)
    'pair-concurrency': { type: 'string', default: '4' }, // pairings in flight per page
    timeout: { type: 'string', default: '600' }, // s to wait for every text
    // s to let PostgreSQL's statistics catch up before the rows written are read (a busy backend reports them
    // at most once a second, an idle one within 10 s): 0 skips the wait, and those figures are then partial.
    'stats-settle': { type: 'string', default: '11' },
    // PgBouncer in transaction mode between the service and PostgreSQL, with this many server connections (0: none).
    pgbouncer: { type: 'string', default: '0' },
    // pgx's default_query_exec_mode (cache_statement, its default; exec: no prepared statements, as PgBouncer 1.18 needs).
    'query-exec-mode': { type: 'string', default: '' },
    // The service over HTTPS (self-signed), so the pages speak HTTP/2 to it: one connection for every request,
    // where HTTP/1.1 gives a page at most 6 connections to one origin.
    tls: { type: 'boolean', default: false },
    json: { type: 'string', default: '' },
  },
});
const N = Object.fromEntries(Object.entries(opt).filter(([k]) => !['json', 'query-exec-mode', 'tls'].includes(k)).map(([k, v]) => [k, Number(v)]));
for (const [k, v] of Object.entries(N)) if (!Number.isFinite(v) || v < 0) throw new Error(`--${k} must be a number ≥ 0, got ${opt[k]}`);
if (N.processes < 1 || N.sessions < N.processes) throw new Error('--sessions must be at least --processes, and --processes at least 1');
const log = (...a) => console.error(`bench-fleet [${new Date().toISOString().slice(11, 19)}]:`, ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const METRICS_TOKEN = 'bench-fleet-metrics';

let phoneSeq = 0;
const newPhone = () => `1555${String(3000000 + phoneSeq++).padStart(7, '0')}`;

// Runs fn over items with at most k in flight.
async function pool(items, k, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(k, items.length) }, async () => {
    while (next < items.length) { const i = next++; await fn(items[i], i); }
  }));
}

// Samples, every second, the load average and the service's connections to PostgreSQL.
function sampler(sessiond) {
  const s = { load: [], pgConns: [], poolConns: [], timer: null };
  const tick = async () => {
    s.load.push(loadavg()[0]);
    try {
      s.pgConns.push(Number(sessiond.sql(`SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`)));
      s.poolConns.push((await sessiond.metrics()).pool.totalConns);
    } catch (e) { log('sample:', e.message); }
  };
  s.start = () => { tick(); s.timer = setInterval(tick, 1000); };
  s.stop = () => clearInterval(s.timer);
  return s;
}

async function main() {
  const started = Date.now();
  const [web, fakewa, sessiond] = await Promise.all([startStatic(), startFakewa(),
    startSessiond({ fleet: 'native' }, { metricsToken: METRICS_TOKEN, poolMaxConns: N.pool, pgbouncer: N.pgbouncer, queryExecMode: opt['query-exec-mode'], tls: opt.tls })]);
  const browsers = [];
  const samples = sampler(sessiond);
  try {
    // One sending phone per browser process; one account per session.
    const groups = Array.from({ length: N.processes }, (_, p) => {
      const size = Math.floor(N.sessions / N.processes) + (p < N.sessions % N.processes ? 1 : 0);
      return { p, peer: newPhone(), sessions: Array.from({ length: size }, () => ({ name: `p${p}s${phoneSeq}`, phone: newPhone() })) };
    });
    for (const g of groups) {
      await fakewa.api('POST', '/api/accounts', { phone: g.peer, pushName: `Peer ${g.p}` });
      for (const s of g.sessions) await fakewa.api('POST', '/api/accounts', { phone: s.phone, pushName: s.name });
    }
    log(`${N.sessions} sessions over ${N.processes} chromium processes; launching`);
    for (const g of groups) {
      const b = await launchPersistent(undefined, { ignoreHTTPSErrors: opt.tls });
      browsers.push(b);
      const page = await b.ctx.newPage();
      page.on('pageerror', (e) => log(`[page ${g.p} error]`, e.message));
      // Not logged: each client asks fakewa's host for a relay's /version, which it has not (a CORS error, as in every e2e test).
      page.on('console', (m) => { if (m.type() === 'error' && !/\/version|^Failed to load resource: net::ERR_FAILED$/.test(m.text())) log(`[page ${g.p}]`, m.text()); });
      const q = new URLSearchParams({ socketURL: fakewa.wsURL, trustRootKey: fakewa.rootKey, service: sessiond.url, token: sessiond.tokens.fleet, holder: `browser-${g.p}`, ttl: String(N.ttl) });
      await page.goto(`${web.url}/scripts/bench-fleet.html?${q}`);
      await page.waitForFunction(() => window.harnessReady || window.harnessError, null, { timeout: 120000 });
      const err = await page.evaluate(() => window.harnessError);
      if (err) throw new Error(err);
      Object.assign(g, { browser: b, page });
    }
    samples.start();

    // Pairing: every page at once, a few QR scans in flight per page.
    const pairStart = Date.now();
    await Promise.all(groups.map((g) => pool(g.sessions, N['pair-concurrency'], async (s) => {
      await g.page.evaluate((n) => window.fleet.create(n), s.name);
      const code = await (await g.page.waitForFunction((n) => window.fleet.qr[n], s.name, { timeout: 120000, polling: 100 })).jsonValue();
      await fakewa.api('POST', `/api/accounts/${s.phone}/scan`, { qr: code });
      await g.page.waitForFunction((n) => window.fleet.ready[n], s.name, { timeout: 180000, polling: 100 });
    })));
    const pairMs = Date.now() - pairStart;
    log(`paired ${N.sessions} sessions in ${(pairMs / 1000).toFixed(1)} s; letting the post-pairing sync settle`);
    // A first text to each session: its Signal session with the peer is made
    // (prekey message), so that the measured phases see steady-state traffic.
    await sendAll(fakewa, groups, 'warm', 1);
    await waitDelivered(groups, 'warm', 1, 180000);
    await sleep(Math.max(2, N['stats-settle']) * 1000);

    // The measured phases: counters zeroed in the pages and the service.
    await Promise.all(groups.map((g) => g.page.evaluate(() => window.fleet.reset())));
    const poolBefore = (await sessiond.metrics({ reset: true })).pool;
    const dbBefore = dbWrites(sessiond);
    const loadFrom = samples.load.length;
    const t0 = Date.now();
    log(`steady: ${N.rate} texts/s per session for ${N.duration} s (${(N.rate * N.sessions).toFixed(0)} texts/s in all)`);
    const steadySent = await steady(fakewa, groups, N.rate, N.duration * 1000);
    await waitDelivered(groups, 'steady', steadySent, N.timeout * 1000);
    const steadyEnd = Math.max(...await Promise.all(groups.map((g) => g.page.evaluate(() => window.fleet.lastText))));
    log(`burst: ${N.burst} texts to every session at once`);
    const b0 = Date.now();
    await sendAll(fakewa, groups, 'burst', N.burst);
    await waitDelivered(groups, 'burst', N.burst, N.timeout * 1000);
    const burstEnd = Math.max(...await Promise.all(groups.map((g) => g.page.evaluate(() => window.fleet.lastText))));
    const t1 = Date.now();
    const walAfter = dbWrites(sessiond).wal; // exact now; the statistics below are read once they caught up
    await sleep(N['stats-settle'] * 1000);
    const dbAfter = dbWrites(sessiond);
    // The renewals of a full TTL/3 happen within the window when it is long enough; the service counts them.
    const service = await sessiond.metrics();
    // The pool's counters run from the start: keep the window's part.
    for (const k of ['acquireCount', 'emptyAcquireCount', 'acquireWaitMs']) service.pool[k] -= poolBefore[k];
    const pages = await Promise.all(groups.map((g) => g.page.evaluate(() => window.fleet.report())));
    const delivered = async (prefix) => (await Promise.all(groups.map((g) => g.page.evaluate((x) => window.fleet.received(x), prefix))))
      .flatMap((r) => Object.values(r)).reduce((a, b) => a + b, 0);
    const load = samples.load.slice(loadFrom);
    samples.stop();
    const mem = groups.map((g) => ({ ...processRSS(g.browser.dir), jsHeap: pages[g.p].jsHeap, wasmLinear: pages[g.p].wasmLinear }));
    const sizes = dbSizes(sessiond);
    const figures = {
      sizes: { sessions: N.sessions, processes: N.processes, duration: N.duration, rate: N.rate, burst: N.burst, pool: N.pool, ttl: N.ttl, pgbouncer: N.pgbouncer, queryExecMode: opt['query-exec-mode'] || 'cache_statement', http: opt.tls ? 'HTTP/2 over TLS' : 'HTTP/1.1' },
      pairMs, windowMs: t1 - t0,
      steady: { sent: steadySent.reduce((a, b) => a + b, 0), delivered: await delivered('steady '), perSec: steadySent.reduce((a, b) => a + b, 0) / ((steadyEnd - t0) / 1000) },
      burst: { sent: N.burst * N.sessions, delivered: await delivered('burst '), perSec: (N.burst * N.sessions) / ((burstEnd - b0) / 1000), ms: burstEnd - b0 },
      pages: mergePages(pages),
      service,
      pgConns: { max: Math.max(...samples.pgConns.slice(loadFrom)), poolMax: Math.max(...samples.poolConns.slice(loadFrom)), maxConns: service.pool.maxConns,
        maxWhilePairing: Math.max(...samples.pgConns.slice(0, loadFrom)) },
      memory: mem,
      load: { max: Math.max(...load), mean: load.reduce((a, b) => a + b, 0) / Math.max(1, load.length), cpus: execFileSync('nproc', { encoding: 'utf8' }).trim() },
      retryReceipts: decryptFailures(fakewa),
      // fakewa resends what a live socket left unacknowledged for 10 s (its RedeliverAfter)
      serverResends: [...fakewa.logs, ...fakewa.stdout].join('').split('\n').filter((l) => /resending stanzas not acknowledged/.test(l)).length,
      db: sizes,
      // What the measured phases wrote: WAL bytes and rows inserted, updated or deleted in the service's tables.
      dbWritten: { walBytes: walAfter - dbBefore.wal, rows: dbAfter.rows - dbBefore.rows, commits: dbAfter.commits - dbBefore.commits },
      totalMs: Date.now() - started,
    };
    printTable(figures);
    if (opt.json) writeFileSync(opt.json, JSON.stringify(figures, null, 1));
  } finally {
    samples.stop();
    for (const b of browsers) await b.close().catch((e) => log('close:', e.message));
    await Promise.all([web.close(), fakewa.close(), sessiond.close()]);
  }
}

// Sends count texts "<prefix> …" from each group's phone to each of its sessions, at once.
async function sendAll(fakewa, groups, prefix, count) {
  const all = groups.flatMap((g) => g.sessions.map((s) => [g.peer, s]));
  await pool(all, 32, ([peer, s]) => fakewa.api('POST', `/api/accounts/${peer}/send`, { to: s.phone, text: `${prefix} ${s.name}`, count }));
}

// Sends rate texts/s to every session for ms, spread evenly (each session
// gets its texts at its own phase); resolves with how many each got, in group order.
async function steady(fakewa, groups, rate, ms) {
  const all = groups.flatMap((g) => g.sessions.map((s) => ({ peer: g.peer, s, n: 0 })));
  const total = Math.round(rate * ms / 1000) * all.length;
  const every = 1000 / (rate * all.length); // ms between two texts, fleet-wide
  const t0 = Date.now();
  let inFlight = 0;
  const pending = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + i * every;
    if (due > Date.now()) await sleep(due - Date.now());
    const x = all[i % all.length];
    x.n++;
    // Never more than 64 calls in flight: a slow fakewa delays the schedule rather than piling up.
    while (inFlight >= 64) await sleep(5);
    inFlight++;
    pending.push(fakewa.api('POST', `/api/accounts/${x.peer}/send`, { to: x.s.phone, text: `steady ${x.s.name} #${x.n}` }).finally(() => { inFlight--; }));
  }
  await Promise.all(pending);
  return all.map((x) => x.n);
}

// Waits until every session received want texts starting with prefix
// (want: a number, or one per session in group order).
async function waitDelivered(groups, prefix, want, timeout) {
  const end = Date.now() + timeout;
  const wants = new Map(groups.flatMap((g) => g.sessions).map((s, i) => [s.name, Array.isArray(want) ? want[i] : want]));
  for (;;) {
    const got = Object.assign({}, ...await Promise.all(groups.map((g) => g.page.evaluate((p) => window.fleet.received(p), prefix))));
    const missing = [...wants].filter(([n, w]) => (got[n] ?? 0) < w);
    if (missing.length === 0) return;
    if (Date.now() > end) throw new Error(`texts "${prefix}" missing after ${timeout / 1000} s: ${missing.slice(0, 10).map(([n, w]) => `${n} ${got[n] ?? 0}/${w}`).join(', ')}${missing.length > 10 ? ` and ${missing.length - 10} more sessions` : ''}`);
    await sleep(250);
  }
}

// ---- figures ----------------------------------------------------------------

const pct = (xs, q) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};
const lat = (xs) => ({ n: xs.length, p50: pct(xs, 0.5), p95: pct(xs, 0.95), p99: pct(xs, 0.99), max: xs.length ? Math.max(...xs) : NaN });

function mergePages(pages) {
  const calls = {};
  const requests = {};
  for (const p of pages) {
    for (const [op, xs] of Object.entries(p.calls)) (calls[op] ??= []).push(...xs);
    for (const [kind, r] of Object.entries(p.requests)) {
      const m = (requests[kind] ??= { attempts: 0, failures: 0, status5xx: 0, ms: [] });
      m.attempts += r.attempts; m.failures += r.failures; m.status5xx += r.status5xx; m.ms.push(...r.ms);
    }
  }
  return {
    calls: Object.fromEntries(Object.entries(calls).map(([op, xs]) => [op, lat(xs)])),
    requests: Object.fromEntries(Object.entries(requests).map(([k, r]) => [k, { attempts: r.attempts, failures: r.failures, status5xx: r.status5xx, ...lat(r.ms) }])),
    retries: Object.values(requests).reduce((a, r) => a + r.failures + r.status5xx, 0),
    errors: pages.flatMap((p) => p.errors),
    lost: pages.flatMap((p) => p.lost),
    repeats: pages.reduce((a, p) => a + p.repeats, 0),
    unmarkedRepeats: pages.reduce((a, p) => a + p.unmarkedRepeats, 0),
    maxInFlight: pages.map((p) => p.maxInFlight),
  };
}

// The WAL position (exact), and the rows written to the service's tables and the transactions so far
// (PostgreSQL's statistics, which backends report late: see --stats-settle).
function dbWrites(sessiond) {
  const [wal, rows, commits] = sessiond.sql(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0'),
    (SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables WHERE relname LIKE 'sessiond_%'),
    (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database())`).split('|').map(Number);
  return { wal, rows, commits };
}

// What the database holds per table after the run (PostgreSQL's own sizes).
function dbSizes(sessiond) {
  const rows = sessiond.sql(`SELECT relname, n_live_tup, pg_total_relation_size(relid) FROM pg_stat_user_tables WHERE relname LIKE 'sessiond_%' ORDER BY relname`);
  const keys = sessiond.sql(`SELECT count(*), coalesce(sum(octet_length(value)), 0), count(DISTINCT session) FROM sessiond_keys`).split('|').map(Number);
  const byType = sessiond.sql(`SELECT convert_from(type, 'UTF8'), count(*), sum(octet_length(id) + octet_length(value)) FROM sessiond_keys GROUP BY type ORDER BY 2 DESC`)
    .split('\n').filter(Boolean).map((l) => l.split('|')).map(([type, n, b]) => ({ type, rows: Number(n), bytes: Number(b) }));
  return {
    byType,
    tables: Object.fromEntries(rows.split('\n').map((l) => l.split('|')).map(([t, n, b]) => [t, { rows: Number(n), bytes: Number(b) }])),
    keys: { rows: keys[0], valueBytes: keys[1], sessions: keys[2] },
    database: Number(sessiond.sql('SELECT pg_database_size(current_database())')),
  };
}

const f1 = (v) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)).replace(/\B(?=(\d{3})+(?!\d))/g, ',') : '–');
const mb = (b) => (b / 1048576).toFixed(0);

function printTable(f) {
  const secs = f.windowMs / 1000;
  const ops = f.service.ops;
  const rows = [];
  const row = (name, value) => rows.push(`| ${name} | ${value} |`);
  const svc = (op) => (ops[op] ? `${f1(ops[op].count / secs)}/s (${ops[op].count}); p50 ${f1(ops[op].p50Ms)} / p95 ${f1(ops[op].p95Ms)} / p99 ${f1(ops[op].p99Ms)} / max ${f1(ops[op].maxMs)} ms` : '–');
  const page = (l) => (l ? `p50 ${f1(l.p50)} / p95 ${f1(l.p95)} / p99 ${f1(l.p99)} / max ${f1(l.max)} ms (${l.n} calls)` : '–');
  row('pairing (QR scanned by a simulated phone), all sessions', `${f1(f.pairMs / 1000)} s`);
  row('texts delivered, steady phase', `${f1(f.steady.perSec)}/s (${f.steady.sent} texts)`);
  row(`texts delivered, burst of ${f.sizes.burst} per session`, `${f1(f.burst.perSec)}/s (${f.burst.sent} texts in ${f1(f.burst.ms / 1000)} s)`);
  row('service: keys.set', svc('keys.set'));
  row('service: keys.get', svc('keys.get'));
  row('service: lease renewals', svc('lease.renew'));
  for (const op of Object.keys(ops).filter((o) => !['keys.set', 'keys.get', 'lease.renew'].includes(o)).sort()) row(`service: ${op}`, svc(op));
  row('service: calls by HTTP version', Object.entries(f.service.protos ?? {}).map(([p, n]) => `${p} ${n}`).join(', '));
  row('service: errors', Object.entries(ops).flatMap(([op, o]) => Object.entries(o.errors ?? {}).map(([c, n]) => `${op} ${c} ×${n}`)).join(', ') || '0');
  row('pages: keys.set (the client waiting on it)', page(f.pages.calls['keys.set']));
  row('pages: keys.get', page(f.pages.calls['keys.get']));
  const renew = f.pages.requests['POST lease/renew'];
  row('pages: lease renewal requests', renew ? `${renew.attempts}; p50 ${f1(renew.p50)} / p95 ${f1(renew.p95)} / p99 ${f1(renew.p99)} / max ${f1(renew.max)} ms` : '0 (window shorter than TTL/3)');
  row('pages: requests retried (no answer or 5xx) / store calls failed / leases lost', `${f.pages.retries} / ${f.pages.errors.length} / ${f.pages.lost.length}`);
  row('retry receipts and decryption failures (fakewa)', `${f.retryReceipts.length}`);
  row('texts shown twice (without redelivered: true) / fakewa resend rounds (a device left stanzas unacknowledged for 10 s)', `${f.pages.repeats} (${f.pages.unmarkedRepeats}) / ${f.serverResends}`);
  row('requests to the service in flight in one page, at most', f.pages.maxInFlight.join(' · '));
  row('PostgreSQL connections of the service (pg_stat_activity, max seen)', `${f.pgConns.max} (pool ${f.pgConns.poolMax} of ${f.pgConns.maxConns}; ${f.pgConns.maxWhilePairing} while pairing); ${f.service.pool.emptyAcquireCount} of ${f.service.pool.acquireCount} acquisitions waited for a connection`);
  row('memory per browser (PSS of all its processes; the page\'s renderer PSS / RSS; wasm linear memory; JS heap), MB',
    f.memory.map((m) => `${mb(m.total)}; ${mb(m.renderer)} / ${mb(m.rendererRSS)}; ${mb(m.wasmLinear)}; ${mb(m.jsHeap)}`).join(' · '));
  row('load average (1 min) during the measured phases: mean / max', `${f1(f.load.mean)} / ${f1(f.load.max)} on ${f.load.cpus} CPUs`);
  const k = f.db.keys;
  row('database after the run', `${mb(f.db.database)} MB; keys: ${f1(k.rows / k.sessions)} rows, ${f1(f.db.tables.sessiond_keys.bytes / k.sessions / 1024)} kB (table and indexes) per session`);
  const w = f.dbWritten;
  row('database writes in the measured phases, per second per session', `${f1(w.rows / secs / f.sizes.sessions)} rows, ${f1(w.commits / secs / f.sizes.sessions)} transactions (reads included), ${f1(w.walBytes / secs / f.sizes.sessions / 1024)} kB of WAL`
    + ` (in all ${f1(w.walBytes / secs / 1048576)} MB/s of WAL, ${f1(w.walBytes / (f.steady.sent + f.burst.sent) / 1024)} kB per text)`);
  row('key rows per session by type (rows; kB of ids and values)', f.db.byType.slice(0, 6).map((t) => `${t.type} ${f1(t.rows / k.sessions)}; ${f1(t.bytes / k.sessions / 1024)}`).join(' · '));
  console.log(`${f.sizes.sessions} sessions over ${f.sizes.processes} chromium processes, ${f.sizes.duration} s at ${f.sizes.rate} texts/s per session then a burst of ${f.sizes.burst}; `
    + `pool ${f.sizes.pool}${f.sizes.pgbouncer ? ` through PgBouncer (transaction mode, ${f.sizes.pgbouncer} server connections)` : ''}, pgx ${f.sizes.queryExecMode}, `
    + `${f.sizes.http}, lease TTL ${f.sizes.ttl} ms; measured window ${f1(secs)} s (service rates are over it)`);
  console.log('| figure | value |\n|---|---|');
  console.log(rows.join('\n'));
}

main().catch((e) => { console.error(e); process.exit(1); });
