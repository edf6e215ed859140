// Cut suite: fakewa drops the socket after a seeded random number of frames
// during pairing (an unpaired socket, armed before it opens or cut while its
// QR shows), during login (the reconnect's socket) and during traffic (texts
// both ways in flight). After each cut the promises are checked: a paired
// client reconnects by itself (disconnected connection_lost, reconnecting
// {attempt, delayMs}, ready) with no storage error; a pairing ends in a
// clear state (completes, or a new QR on the next connect); every text the
// peer sent is shown, every sendText that resolved reached the peer and one
// that rejected says why; fakewa holds no stuck queue for our devices; no
// retry receipt; the Go program is alive. WASMEOW_CUTS (default 18) sets the
// number of cuts, WASMEOW_CUT_KINDS which rounds (default
// pairing,login,traffic), WASMEOW_FAULT_SEED the seed (default: random, printed);
// WASMEOW_FAULT_DUMP=file writes fakewa's log there when a decrypt fails.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStatic, startFakewa, launchBrowser, openPage, pageOptions, waitEvent, eventCount, pairByQR, faultSeed, seededRandom, faultRecord, waitQueuesEmpty, decryptFailures } from '../test-support/e2e.js';

const CUTS = Number(process.env.WASMEOW_CUTS) || 18;
const SEED = faultSeed();
const rnd = seededRandom(SEED);

let server, fakewa, browser, page;
const rec = faultRecord();
const CAT = '15550000081'; // the browser's main account
const DAN = '15550000082'; // a peer's phone
const peerSent = []; // every text Dan sent to Cat
const liveJIDs = new Set(); // our devices whose queues must drain
let me; // Cat's device

before(async () => {
  [server, fakewa] = await Promise.all([startStatic(), startFakewa()]);
  await fakewa.api('POST', '/api/accounts', { phone: CAT, pushName: 'Cat' });
  await fakewa.api('POST', '/api/accounts', { phone: DAN, pushName: 'Dan' });
  browser = await launchBrowser();
  page = await openPage(await browser.newContext(), server.url, pageOptions(fakewa));
  await rec.attach(page);
});

after(async () => {
  await browser?.close();
  await fakewa?.close();
  await server?.close();
});

const options = (clientId) => ({ auth: { strategy: 'local', clientId }, logLevel: process.env.WASMEOW_LOG_LEVEL || 'error' });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const since = (name, from) => page.evaluate(([n, f]) => window.events[n].slice(f).map((e) => ({ name: e.name, ...e.payload })), [name, from]);
const trail = async (name, from) => (await since(name, from)).map((e) => e.name + (e.reason ? `:${e.reason}` : '') + (e.name === 'error' ? `:${e.code}` : '')).join(' ');
const state = (name) => page.evaluate((n) => window.clients[n].state, name);
const cutNext = (afterFrames) => fakewa.api('POST', '/api/connections/next/cut', { afterFrames });
const peerSend = async (to, text) => { await fakewa.api('POST', `/api/accounts/${DAN}/send`, { to, text }); if (to === CAT) peerSent.push(text); };

async function create(name) {
  await page.evaluate(([n, o]) => window.create(n, o), [name, options(name)]);
  await rec.track(page, name);
}

// The first event of client past index from whose name is one of want: {name, at}.
async function nextOf(name, want, from, timeout = 20000) {
  const h = await page.waitForFunction(([n, w, f]) => {
    const i = window.events[n].slice(f).findIndex((e) => w.includes(e.name));
    return i < 0 ? null : { name: window.events[n][f + i].name, at: f + i };
  }, [name, want, from], { timeout }).catch(async (e) => { throw new Error(`${name} stuck: none of ${want} after ${await trail(name, from)}: ${e.message}`); });
  return h.jsonValue();
}

// A paired client that lost its socket reconnects by itself: disconnected
// connection_lost, reconnecting {attempt, delayMs}, then ready, no error.
async function reconnectedByItself(name, from, what) {
  const lost = await nextOf(name, ['disconnected'], from, 30000);
  const evs = await since(name, lost.at);
  assert.equal(evs[0].reason, 'connection_lost', `${what}: ${await trail(name, from)}`);
  const rec1 = await nextOf(name, ['reconnecting'], lost.at);
  const r = (await since(name, rec1.at))[0];
  assert.ok(Number.isInteger(r.attempt) && r.attempt >= 1 && r.delayMs >= 0, `${what}: reconnecting ${JSON.stringify(r)}`);
  await nextOf(name, ['ready'], rec1.at, 60000);
  const all = await since(name, from);
  assert.ok(!all.some((e) => e.name === 'error' || e.reason === 'store_failed'), `${what}: a lost connection is no storage failure: ${await trail(name, from)}`);
  return all.filter((e) => e.name === 'reconnecting').length;
}

// Every promise after a round.
async function check(what) {
  await rec.waitShown('cat', peerSent);
  const inbox = new Set((await fakewa.api('GET', `/api/accounts/${DAN}/messages`)).map((m) => m.id));
  for (const [client, sent] of rec.sent) {
    for (const [id, text] of sent) {
      if (!inbox.has(id)) {
        await fakewa.waitInbox(DAN, (m) => m.id === id).catch(() => {
          // fakewa's log names what happened to the stanza: keep it with the failure.
          const log = fakewa.stdout.join('').split('\n').filter((l) => l.includes(id) || /cut|again|retry/i.test(l)).slice(-40).join('\n');
          assert.fail(`${what}: ${client}'s "${text}" (${id}) resolved but never reached Dan\nfakewa:\n${log}`);
        });
      }
    }
  }
  assert.deepEqual(await waitQueuesEmpty(fakewa, [...liveJIDs]), {}, `${what}: no stuck queue`);
  if (process.env.WASMEOW_FAULT_DUMP && decryptFailures(fakewa).length) (await import('node:fs')).writeFileSync(process.env.WASMEOW_FAULT_DUMP, fakewa.stdout.join('') + '\n---trail---\n' + (rec.trail.get('cat') || []).join(' '));
  assert.deepEqual(decryptFailures(fakewa), [], `${what}: no retry receipt, no decrypt failure`);
  assert.deepEqual(rec.unmarkedRepeats('cat'), [], `${what}: a repeat says redelivered`);
  assert.deepEqual(rec.errors, [], `${what}: no error event`);
  assert.deepEqual(rec.console.filter((l) => /decrypt|bad mac|no session|exited|panic/i.test(l)), [], `${what}: the console`);
  assert.ok(Array.isArray(await page.evaluate(() => window.wm.listSessions())), 'the Go program is alive');
}

// Cat sends texts, each settled: resolved (recorded) or rejected with a reason.
const REJECTS = ['not_connected', 'send_failed'];
async function catSends(texts) {
  const results = await page.evaluate(([to, ts]) => Promise.all(ts.map((t, k) => new Promise((r) => setTimeout(r, 30 * k)).then(() => window.faultSend('cat', to, t)))), [DAN, texts]);
  for (const r of results) assert.ok(r.id || (REJECTS.includes(r.code) && r.message), `a send settles with an id or a clear reason: ${JSON.stringify(r)}`);
  return results.filter((r) => r.id).length;
}

const rounds = {
  // An unpaired socket cut after N frames: armed before it opens, or cut
  // while its QR is on screen. The pairing completes, or the next connect
  // shows a new QR which then pairs.
  async pairing(i) {
    const name = `c${i}`;
    const phone = `1555000${String(2000 + i).padStart(4, '0')}`;
    await fakewa.api('POST', '/api/accounts', { phone, pushName: `C${i}` });
    await create(name);
    // Where: the next socket armed (0: refused as it opens), or the live
    // socket cut while its QR shows, at once (before the scan) or a frame
    // or two on (at pair-success, the 515 restart).
    const mode = rnd.pick(['next', 'before scan', 'at pair-success']);
    const live = mode !== 'next';
    const n = mode === 'next' ? rnd.int(0, 4) : mode === 'before scan' ? 0 : rnd.int(1, 2);
    if (!live) await cutNext(n);
    let from = 0;
    const connect = () => page.evaluate((c) => window.clients[c].connect().then(() => null, (e) => e.code), name);
    const connectFailed = await connect();
    assert.ok(connectFailed === null || connectFailed === 'connect_failed', `connect settles clearly: ${connectFailed}`);
    let sockets = 1;
    let newQR = 0;
    let scans = 0;
    if (connectFailed) { sockets++; await connect(); }
    for (let step = 0; ; step++) {
      assert.ok(step < 12, `${name}: pairing never settled: ${await trail(name, 0)}`);
      const ev = await nextOf(name, ['qr', 'ready', 'disconnected'], from);
      from = ev.at + 1;
      if (ev.name === 'ready') break;
      if (ev.name === 'qr') {
        const qr = (await since(name, ev.at))[0];
        if (sockets > 1 && scans === sockets - 1) newQR++;
        if (live && step === 0) {
          const conns = await fakewa.api('GET', '/api/connections');
          const mine = conns.filter((c) => !c.device).map((c) => c.id).sort((a, b) => b - a)[0];
          if (mine !== undefined) await fakewa.api('POST', `/api/connections/${mine}/cut`, { afterFrames: n }).catch(() => {});
        }
        if (scans < sockets) {
          scans = sockets;
          await fakewa.api('POST', `/api/accounts/${phone}/scan`, { qr: qr.code }).catch(() => {});
        }
        continue;
      }
      // Disconnected: a stored device reconnects by itself; an unpaired one
      // is idle until the next connect, which must show a new QR.
      await sleep(300);
      const s = await state(name);
      if (s === 'disconnected') { sockets++; await connect(); }
    }
    const jid = await page.evaluate((c) => window.clients[c].getCreds().me, name);
    liveJIDs.add(jid);
    await peerSend(phone, `to ${name}`);
    await rec.waitShown(name, [`to ${name}`]);
    const r = await page.evaluate(([c, to]) => window.faultSend(c, to, `from ${c}`), [name, DAN]);
    assert.ok(r.id, `${name} sends after pairing: ${JSON.stringify(r)}`);
    const trailText = await trail(name, 0);
    await page.evaluate((c) => window.clients[c].destroy(), name);
    return { what: `${mode} cut after ${n} frames: ${sockets} socket(s) opened by the page, ${newQR ? 'a new QR on the next connect' : 'paired through the first QR'}`, trail: trailText, newQR, sockets };
  },
  // The socket of a login (the client's own reconnect) cut after N frames.
  async login(i) {
    const n = rnd.int(0, 15);
    const from = await eventCount(page, 'cat');
    await cutNext(n);
    await fakewa.api('POST', `/api/devices/${encodeURIComponent(me)}/cut`, { afterFrames: 0 });
    await peerSend(CAT, `cut ${i} login 1`);
    const reconnects = await reconnectedByItself('cat', from, `login cut after ${n} frames`);
    // An armed cut that outlived the login lands in traffic: let it happen.
    await peerSend(CAT, `cut ${i} login 2`);
    await rec.waitShown('cat', peerSent);
    let sent = 0;
    for (let k = 0; !sent; k++) {
      assert.ok(k < 3, `cat sends after the login cut: ${await trail('cat', from)}`);
      await page.waitForFunction(() => window.clients.cat.state === 'ready', null, { timeout: 60000 });
      sent = await catSends([`cat ${i} after login ${k}`]);
    }
    return { what: `login socket cut after ${n} frames: ${reconnects} reconnecting event(s)` };
  },
  // Cat's socket cut after N frames while texts flow both ways.
  async traffic(i) {
    const n = rnd.int(1, 12);
    const from = await eventCount(page, 'cat');
    await fakewa.api('POST', `/api/devices/${encodeURIComponent(me)}/cut`, { afterFrames: n });
    const texts = Array.from({ length: 5 }, (_, k) => `cut ${i} traffic ${k}`);
    const [, sent] = await Promise.all([
      (async () => { for (const t of texts) { await peerSend(CAT, t); await sleep(rnd.int(0, 40)); } })(),
      catSends([0, 1, 2].map((k) => `cat ${i}.${k}`)),
    ]);
    // More frames until the cut came.
    for (let k = 0; !(await since('cat', from)).some((e) => e.name === 'disconnected'); k++) {
      assert.ok(k < 20, `the cut after ${n} frames never came: ${await trail('cat', from)}`);
      await peerSend(CAT, `cut ${i} more ${k}`);
      await sleep(100);
    }
    const reconnects = await reconnectedByItself('cat', from, `traffic cut after ${n} frames`);
    return { what: `traffic cut after ${n} frames: ${sent} of 3 sends resolved, ${reconnects} reconnecting event(s)` };
  },
};

test(`socket cuts after seeded random frame counts (seed ${SEED}, ${CUTS} cuts)`, { timeout: 15 * 60 * 1000 }, async () => {
  console.log(`cut suite: seed ${SEED} (WASMEOW_FAULT_SEED=${SEED} repeats it), ${CUTS} cuts`);
  await create('cat');
  me = await pairByQR(fakewa, page, 'cat', CAT);
  liveJIDs.add(me);
  // The first traffic is Cat and Dan's very first exchange (sessions set up
  // both ways, several sends in flight); WASMEOW_CUT_PRIMED=1 lets them talk
  // once before the first cut.
  if (process.env.WASMEOW_CUT_PRIMED) {
    await peerSend(CAT, 'hello cat');
    await rec.waitShown('cat', peerSent);
    assert.equal(await catSends(['hello dan']), 1, 'the first exchange, before any cut');
    await check('the first exchange');
  }
  const kinds = process.env.WASMEOW_CUT_KINDS?.split(',') ?? ['pairing', 'login', 'traffic'];
  assert.ok(kinds.every((k) => rounds[k]), `WASMEOW_CUT_KINDS: one or more of ${Object.keys(rounds)}`);
  const order = Array.from({ length: CUTS }, (_, i) => kinds[i % kinds.length]);
  for (let i = order.length - 1; i > 0; i--) { const j = rnd.int(0, i); [order[i], order[j]] = [order[j], order[i]]; }
  const counts = { pairing: 0, login: 0, traffic: 0 };
  let newQRs = 0;
  const log = [];
  for (let i = 0; i < CUTS; i++) {
    const r = await rounds[order[i]](i);
    counts[order[i]]++;
    newQRs += r.newQR ? 1 : 0;
    log.push(`${i} ${order[i]}: ${r.what}${r.trail ? ` [${r.trail}]` : ''}`);
    await check(`cut ${i} (${order[i]}: ${r.what})`);
  }
  console.log(log.join('\n'));
  const sentCount = [...rec.sent.values()].reduce((n, m) => n + m.size, 0);
  const resent = fakewa.stdout.join('').split('\n').filter((l) => /not routed twice/.test(l)).length;
  console.log(`cut suite: ${CUTS} cuts (pairing ${counts.pairing}, ${newQRs} of them ending in a new QR on the next connect; login ${counts.login}; traffic ${counts.traffic}); ` +
    `${peerSent.length} texts to Cat all shown (${rec.shown.get('cat').size} unique ids, ${rec.repeats('cat')} shown more than once, each marked redelivered), ${sentCount} resolved sends all delivered (${resent} resent after a cut, acknowledged once), no retry receipt, no stuck queue, no storage error`);
});
