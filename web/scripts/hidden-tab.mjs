#!/usr/bin/env node
// Does a paired wasmeow session stay connected in a hidden, throttled tab?
// Not part of `make test` (it runs for minutes). Usage, from web/:
//
//   node scripts/hidden-tab.mjs [--minutes 12] [--grace SECONDS] [--modes page,worker]
//        [--every 60] [--cut-at MIN [--refuse K]] [--freeze-at MIN [--freeze-for 120]]
//        [--stall-at MIN] [--out FILE.json]
//
// Results, method and figures: docs/BACKGROUND.md.
//
// It starts fakewa and the static server, launches chromium through the
// DevTools protocol on a pipe (not Playwright: Playwright enables focus
// emulation on every page it drives, which keeps a page "visible", and
// passes --disable-background-timer-throttling), pairs one client per mode
// in its own tab (the client in the page, or in a dedicated Worker), then
// opens a blank tab and activates it (Target.activateTarget), the way a user
// switches tabs: the measured tabs become document.visibilityState
// "hidden" and Chrome throttles them as background tabs.
//
// --grace N passes --enable-features=IntensiveWakeUpThrottling:grace_period_seconds/N
// (Chrome's default is 300 s: chained timers are aligned to one wake-up a
// minute only after 5 minutes hidden). --every N: a peer sends each client
// a text every N s, and each client sends the peer one, N/2 s later.
// --cut-at M: at minute M fakewa drops every client socket once, to time a
// reconnect in the hidden tab; --refuse K also drops the next K sockets to
// open (per client), so the reconnect goes through its backoff timers.
// --freeze-at M [--freeze-for S]: at minute M the measured tabs are frozen
// for S s (Page.setWebLifecycleState "frozen", what Chrome's tab freezing
// does: no task runs, timers, socket events and Workers included).
// --stall-at M: the clients reach fakewa through a TCP proxy in this script;
// at minute M it stops forwarding on every open connection without closing
// it (a dead network path: no close event, keepalives go unanswered), while
// new connections pass. Times how long the client takes to notice.
// Exit status 0 when every client ended ready, every text from the peer
// arrived, and, undisturbed, no event came while hidden and every text sent
// was delivered (after a cut, freeze or stall: delivered or rejected).
//
// Recorded: every wasmeow event; every keepalive (whatsmeow's w:p iq) with
// its answer; the gaps of a chained 1 s setTimeout in the page (and in the
// Worker) to prove the throttling; fakewa's live sockets every 10 s; the
// delay of each text either way. A summary is printed; --out keeps it all.
import { spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startStatic, startFakewa, CHROMIUM_ARGS } from '../test-support/e2e.js';

const { values: opt } = parseArgs({
  options: {
    minutes: { type: 'string', default: '12' },
    grace: { type: 'string' },
    modes: { type: 'string', default: 'page,worker' },
    every: { type: 'string', default: '60' },
    'cut-at': { type: 'string', default: '0' },
    refuse: { type: 'string', default: '0' },
    'freeze-at': { type: 'string', default: '0' },
    'freeze-for': { type: 'string', default: '120' },
    'stall-at': { type: 'string', default: '0' },
    out: { type: 'string' },
  },
});
const MINUTES = Number(opt.minutes);
const EVERY = Number(opt.every) * 1000;
const CUT_AT = Number(opt['cut-at']) * 60000;
const REFUSE = Number(opt.refuse);
const FREEZE_AT = Number(opt['freeze-at']) * 60000;
const FREEZE_FOR = Number(opt['freeze-for']) * 1000;
const STALL_AT = Number(opt['stall-at']) * 60000;
const MODES = opt.modes.split(',').filter(Boolean);
const PEER = '15550009000';
const ACCOUNTS = { page: '15550009001', worker: '15550009002' };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.log(new Date().toISOString().slice(11, 19), ...a);

// ---- a minimal DevTools-protocol client over --remote-debugging-pipe ------

function launchChromium(args) {
  const exe = process.env.CHROMIUM || '/usr/bin/chromium';
  const proc = spawn(exe, [...args, '--remote-debugging-pipe'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  proc.stderr.on('data', () => {});
  const [toBrowser, fromBrowser] = [proc.stdio[3], proc.stdio[4]];
  let id = 0;
  let buf = '';
  const pending = new Map();
  fromBrowser.on('data', (d) => {
    buf += d;
    for (let i; (i = buf.indexOf('\0')) >= 0;) {
      const m = JSON.parse(buf.slice(0, i));
      buf = buf.slice(i + 1);
      const p = m.id && pending.get(m.id);
      if (!p) continue;
      pending.delete(m.id);
      if (m.error) p.reject(new Error(`${p.method}: ${m.error.message}`)); else p.resolve(m.result);
    }
  });
  const send = (method, params = {}, sessionId) => new Promise((resolve, reject) => {
    const n = ++id;
    pending.set(n, { resolve, reject, method });
    toBrowser.write(JSON.stringify({ id: n, method, params, sessionId }) + '\0');
  });
  return { proc, send };
}

async function evaluate(cdp, sessionId, expression) {
  const r = await cdp.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, sessionId);
  if (r.exceptionDetails) throw new Error(r.exceptionDetails.exception?.description || r.exceptionDetails.text);
  return r.result.value;
}

const call = (cdp, s, method, ...args) => evaluate(cdp, s, `window.hb.call(${JSON.stringify(method)}, ...${JSON.stringify(args)})`);

async function waitFor(what, fn, timeout = 30000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

// A TCP proxy to fakewa whose open connections can be stalled.
async function startStallProxy(wsURL) {
  const target = new URL(wsURL);
  const pairs = new Set();
  const server = createServer((a) => {
    const b = connect(Number(target.port), target.hostname);
    const pair = { a, b };
    pairs.add(pair);
    a.pipe(b);
    b.pipe(a);
    const drop = () => { pairs.delete(pair); a.destroy(); b.destroy(); };
    a.on('error', drop); b.on('error', drop); a.on('close', drop); b.on('close', drop);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = new URL(wsURL);
  url.port = String(server.address().port);
  return {
    url: url.toString(),
    // Open connections stop forwarding and stay open; what arrives is dropped.
    stall: () => { for (const { a, b } of pairs) { a.unpipe(b); b.unpipe(a); a.removeAllListeners('data'); b.removeAllListeners('data'); a.on('data', () => {}); b.on('data', () => {}); } return pairs.size; },
    close: () => { for (const { a, b } of pairs) { a.destroy(); b.destroy(); } server.close(); },
  };
}

// ---- statistics -----------------------------------------------------------

const q = (a, p) => (a.length ? [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p * a.length))] : null);
const stats = (a) => (a.length ? { n: a.length, min: Math.min(...a), median: q(a, 0.5), p95: q(a, 0.95), max: Math.max(...a) } : { n: 0 });
const gapsOf = (fires, from, to) => fires.filter((t) => t >= from && t <= to).map((t, i, arr) => (i ? t - arr[i - 1] : null)).slice(1);

function timerSummary(fires, hiddenAt, end) {
  const gaps = gapsOf(fires, hiddenAt, end);
  const inWindow = fires.filter((t) => t >= hiddenAt && t <= end);
  const firstMinuteGap = inWindow.find((t, i) => i && t - inWindow[i - 1] >= 30000);
  return {
    gaps: stats(gaps),
    fires: inWindow.length,
    expectedFires: Math.round((end - hiddenAt) / 1000),
    gapsOver30s: gaps.filter((g) => g >= 30000).length,
    minuteThrottlingFromS: firstMinuteGap ? Math.round((firstMinuteGap - hiddenAt) / 1000) : null,
  };
}

// ---- the run ----------------------------------------------------------------

async function main() {
  const [server, fakewa] = await Promise.all([startStatic(), startFakewa()]);
  const profile = mkdtempSync(join(tmpdir(), 'wasmeow-hidden-'));
  const args = [...CHROMIUM_ARGS, `--user-data-dir=${profile}`];
  if (opt.grace) args.push(`--enable-features=IntensiveWakeUpThrottling:grace_period_seconds/${Number(opt.grace)}`);
  const cdp = launchChromium([...args, 'about:blank']);
  const proxy = STALL_AT ? await startStallProxy(fakewa.wsURL) : null;
  const socketURL = proxy ? proxy.url : fakewa.wsURL;
  const cleanup = async () => {
    proxy?.close();
    cdp.proc.kill('SIGTERM');
    await new Promise((r) => (cdp.proc.exitCode !== null ? r() : cdp.proc.on('exit', r)));
    rmSync(profile, { recursive: true, force: true });
    await fakewa.close();
    await server.close();
  };
  try {
    const { product } = await waitFor('chromium', () => cdp.send('Browser.getVersion').catch(() => null));
    log(`${product}, ${MINUTES} min hidden, grace ${opt.grace ? opt.grace + ' s (flag)' : 'Chrome default'}, modes ${MODES}, a text each way every ${EVERY / 1000} s`);
    await fakewa.api('POST', '/api/accounts', { phone: PEER, pushName: 'Peer' });

    // One tab per mode, each paired while visible.
    const tabs = {};
    for (const mode of MODES) {
      const phone = ACCOUNTS[mode];
      await fakewa.api('POST', '/api/accounts', { phone, pushName: mode });
      const { targetId } = await cdp.send('Target.createTarget', { url: `${server.url}/scripts/hidden-tab.html?mode=${mode}` });
      const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
      await cdp.send('Target.activateTarget', { targetId });
      await waitFor(`${mode} harness`, () => evaluate(cdp, sessionId, 'window.hbReady || (window.hbError && Promise.reject(new Error(window.hbError)))'));
      await call(cdp, sessionId, 'create', { auth: { strategy: 'local', clientId: `hidden-${mode}` }, socketURL, trustRootKey: fakewa.rootKey, logLevel: 'debug' });
      await call(cdp, sessionId, 'connect');
      const qr = await waitFor(`${mode} qr`, async () => (await call(cdp, sessionId, 'snapshot')).events.find((e) => e.name === 'qr'));
      await fakewa.api('POST', `/api/accounts/${phone}/scan`, { qr: qr.payload.code });
      await waitFor(`${mode} ready`, async () => (await call(cdp, sessionId, 'snapshot')).events.find((e) => e.name === 'ready'));
      const me = await call(cdp, sessionId, 'me');
      tabs[mode] = { mode, phone, targetId, sessionId, me, incoming: [], outgoing: [] };
      log(`${mode}: paired as ${me}`);
    }
    // A first text each way while visible, so that sessions exist both ways.
    for (const t of Object.values(tabs)) {
      await fakewa.api('POST', `/api/accounts/${PEER}/send`, { to: t.phone, text: `warm-up to ${t.mode}` });
      await call(cdp, t.sessionId, 'sendText', PEER, `warm-up from ${t.mode}`);
      await waitFor('warm-up', async () => (await call(cdp, t.sessionId, 'snapshot')).events.find((e) => e.name === 'message'));
    }

    // Hide them: another tab comes to the front.
    const { targetId: front } = await cdp.send('Target.createTarget', { url: 'about:blank' });
    await cdp.send('Target.activateTarget', { targetId: front });
    const hiddenAt = Date.now();
    for (const t of Object.values(tabs)) {
      const v = await evaluate(cdp, t.sessionId, 'document.visibilityState');
      if (v !== 'hidden') throw new Error(`${t.mode} tab is ${v}, not hidden`);
    }
    log('measured tabs hidden (visibilityState "hidden"); recording');

    const sockets = [];
    const end = hiddenAt + MINUTES * 60000;
    let nextIn = hiddenAt + EVERY;
    let nextOut = hiddenAt + EVERY / 2;
    let nextPoll = hiddenAt;
    let nextReport = hiddenAt + 60000;
    let cutDone = !CUT_AT;
    let stalledAt = null;
    let frozenAt = null;
    let thawedAt = FREEZE_AT ? null : 0;
    let seq = 0;
    while (Date.now() < end) {
      const now = Date.now();
      if (now >= nextPoll) {
        nextPoll += 10000;
        const conns = await fakewa.api('GET', '/api/connections');
        sockets.push({ at: now, conns: conns.map((c) => ({ id: c.id, state: c.state, device: c.device })) });
      }
      if (now >= nextIn) {
        nextIn += EVERY;
        for (const t of Object.values(tabs)) {
          const text = `in ${t.mode} #${++seq}`;
          const sentAt = Date.now();
          await fakewa.api('POST', `/api/accounts/${PEER}/send`, { to: t.phone, text });
          t.incoming.push({ text, sentAt });
        }
      }
      if (now >= nextOut) {
        nextOut += EVERY;
        for (const t of Object.values(tabs)) {
          const text = `out ${t.mode} #${++seq}`;
          const o = { text, startAt: Date.now(), ackAt: null, deliveredAt: null, error: null };
          t.outgoing.push(o);
          call(cdp, t.sessionId, 'sendText', PEER, text).then(() => { o.ackAt = Date.now(); }, (e) => { o.error = e.message; });
          fakewa.waitInbox(PEER, (m) => m.text === text, 120000).then(() => { o.deliveredAt = Date.now(); }, () => {});
        }
      }
      if (!cutDone && now >= hiddenAt + CUT_AT) {
        cutDone = true;
        for (let i = 0; i < REFUSE * Object.keys(tabs).length; i++) await fakewa.api('POST', '/api/connections/next/cut', { afterFrames: 0 });
        for (const t of Object.values(tabs)) {
          t.cutAt = Date.now();
          await fakewa.api('POST', `/api/devices/${encodeURIComponent(t.me)}/cut`, { afterFrames: 0 });
        }
        log('cut every client socket');
      }
      if (STALL_AT && stalledAt === null && now >= hiddenAt + STALL_AT) {
        stalledAt = Date.now();
        for (const t of Object.values(tabs)) t.stalledAt = stalledAt;
        log(`stalled ${proxy.stall()} open connections (no close, nothing forwarded)`);
      }
      if (FREEZE_AT && frozenAt === null && now >= hiddenAt + FREEZE_AT) {
        for (const t of Object.values(tabs)) await cdp.send('Page.setWebLifecycleState', { state: 'frozen' }, t.sessionId);
        frozenAt = Date.now();
        log(`froze the measured tabs for ${FREEZE_FOR / 1000} s`);
      }
      if (frozenAt !== null && thawedAt === null && now >= frozenAt + FREEZE_FOR) {
        for (const t of Object.values(tabs)) await cdp.send('Page.setWebLifecycleState', { state: 'active' }, t.sessionId);
        thawedAt = Date.now();
        log('thawed the measured tabs');
      }
      const frozen = frozenAt !== null && thawedAt === null;
      if (now >= nextReport && !frozen) {
        nextReport += 60000;
        const parts = [];
        for (const t of Object.values(tabs)) {
          const s = await call(cdp, t.sessionId, 'snapshot');
          const evs = s.events.filter((e) => e.at >= hiddenAt && !['message', 'creds.update'].includes(e.name)).map((e) => e.name);
          const pf = await evaluate(cdp, t.sessionId, 'window.pageFires.slice(-3)');
          parts.push(`${t.mode}: state ${s.state}, keepalives ${s.keepalives.filter((k) => k.sentAt >= hiddenAt).length}, events [${evs}], page timer last gap ${pf.length > 1 ? pf.at(-1) - pf.at(-2) : '?'} ms`);
        }
        log(`min ${Math.round((now - hiddenAt) / 60000)}: ${parts.join(' | ')}`);
      }
      await sleep(250);
    }
    await sleep(3000); // let the last sends settle

    // ---- results ----
    const result = { date: new Date(hiddenAt).toISOString(), chromium: product, minutes: MINUTES, grace: opt.grace ? Number(opt.grace) : 'default (300 s)', everyS: EVERY / 1000, cutAtMin: CUT_AT / 60000 || null, modes: {} };
    if (STALL_AT) result.stalledAtMin = STALL_AT / 60000;
    if (FREEZE_AT) result.frozen = { atS: Math.round((frozenAt - hiddenAt) / 1000), forS: Math.round((thawedAt - frozenAt) / 1000) };
    for (const t of Object.values(tabs)) {
      const s = await call(cdp, t.sessionId, 'snapshot');
      const visibility = await evaluate(cdp, t.sessionId, 'window.visibility');
      // This tab's own hidden time (the first tab hid when the next one opened).
      const hiddenAt = visibility.findLast((v) => v.state === 'hidden').at;
      const pageFires = await evaluate(cdp, t.sessionId, 'window.pageFires');
      const kas = s.keepalives.filter((k) => k.sentAt >= hiddenAt && k.sentAt <= end);
      const kaGaps = kas.map((k, i) => (i ? k.sentAt - kas[i - 1].sentAt : null)).slice(1);
      const msgs = s.events.filter((e) => e.name === 'message');
      const incoming = t.incoming.map((m) => {
        const ev = msgs.find((e) => e.payload.text === m.text);
        return { ...m, arrivedAt: ev?.at ?? null, delayMs: ev ? ev.at - m.sentAt : null };
      });
      const mine = sockets.map((p) => p.conns.filter((c) => c.device === t.me));
      const r = {
        hiddenS: Math.round((end - hiddenAt) / 1000),
        visibility: visibility.map((v) => ({ ...v, at: new Date(v.at).toISOString() })),
        eventsWhileHidden: s.events.filter((e) => e.at >= hiddenAt && e.name !== 'creds.update')
          .map((e) => ({ name: e.name, atS: Math.round((e.at - hiddenAt) / 100) / 10, ...(e.name === 'message' ? {} : { payload: e.payload }) }))
          .filter((e) => e.name !== 'message'),
        finalState: s.state,
        keepalives: {
          sent: kas.length,
          answered: kas.filter((k) => k.ackAt).length,
          intervalMs: stats(kaGaps),
          answerMs: stats(kas.filter((k) => k.ackAt).map((k) => k.ackAt - k.sentAt)),
        },
        pageTimer: timerSummary(pageFires, hiddenAt, end),
        ...(t.mode === 'worker' ? { workerTimer: timerSummary(s.fires, hiddenAt, end) } : {}),
        incoming: { sent: incoming.length, arrived: incoming.filter((m) => m.arrivedAt).length, delayMs: stats(incoming.filter((m) => m.delayMs !== null).map((m) => m.delayMs)) },
        outgoing: {
          sent: t.outgoing.length,
          acked: t.outgoing.filter((o) => o.ackAt).length,
          delivered: t.outgoing.filter((o) => o.deliveredAt).length,
          errors: t.outgoing.filter((o) => o.error).map((o) => o.error),
          ackMs: stats(t.outgoing.filter((o) => o.ackAt).map((o) => o.ackAt - o.startAt)),
        },
        server: {
          polls: mine.length,
          pollsWithoutSocket: mine.filter((c) => c.length === 0).length,
          distinctSockets: new Set(mine.flat().map((c) => c.id)).size,
        },
        ...(t.cutAt ? { reconnectAfterCutMs: (s.events.find((e) => e.name === 'ready' && e.at > t.cutAt)?.at ?? NaN) - t.cutAt } : {}),
        ...(t.cutAt ? { cutAtS: Math.round((t.cutAt - hiddenAt) / 1000) } : {}),
        ...(t.stalledAt ? {
          stalledAtS: Math.round((t.stalledAt - hiddenAt) / 1000),
          noticedAfterMs: (s.events.find((e) => e.name === 'disconnected' && e.at > t.stalledAt)?.at ?? NaN) - t.stalledAt,
          readyAgainAfterMs: (s.events.find((e) => e.name === 'ready' && e.at > t.stalledAt)?.at ?? NaN) - t.stalledAt,
          keepalivesAfterStall: kas.filter((k) => k.sentAt > t.stalledAt).slice(0, 12).map((k) => ({ atS: Math.round((k.sentAt - t.stalledAt) / 100) / 10, answered: !!k.ackAt })),
        } : {}),
      };
      result.modes[t.mode] = r;
      if (opt.out) r.raw = { logs: s.logs, keepalives: kas, incoming, outgoing: t.outgoing, pageFires, ...(t.mode === 'worker' ? { workerFires: s.fires } : {}) };
    }
    if (opt.out) {
      result.sockets = sockets;
      writeFileSync(opt.out, JSON.stringify(result, null, 1));
    }
    const brief = JSON.parse(JSON.stringify(result));
    delete brief.sockets;
    for (const m of Object.values(brief.modes)) delete m.raw;
    console.log(JSON.stringify(brief, null, 2));
    // Undisturbed, nothing may happen but texts; after a cut, freeze or stall
    // the client must be ready again and a text either delivered or refused
    // (sendText rejects with not_connected while the client reconnects).
    const disturbed = result.cutAtMin || result.frozen || result.stalledAtMin;
    const ok = Object.values(result.modes).every((m) => m.finalState === 'ready' && m.incoming.arrived === m.incoming.sent
      && m.outgoing.delivered + (disturbed ? m.outgoing.errors.length : 0) === m.outgoing.sent
      && (disturbed || m.eventsWhileHidden.length === 0));
    log(ok ? 'RESULT: every client stayed connected and every text arrived' : 'RESULT: a client lost its connection or a text (see above)');
    process.exitCode = ok ? 0 : 1;
  } finally {
    await cleanup();
  }
}

main().catch((e) => { console.error(e); process.exit(2); });
