// Kill suite: the browser is SIGKILLed (no unload, no flush) at seeded random
// moments across pairing (QR shown, scan, pair-success, the 515 restart,
// first ready), login (restore from IndexedDB to ready) and a burst both
// ways (the peer's texts arriving while sendText calls are in flight). After
// each kill the browser starts again on the same profile and the promises
// are checked: every text the peer sent is shown (unique ids; a repeat after
// a crash is allowed, at-least-once; one whose report to the test died with
// the browser counts when the server says it was acknowledged before the kill), every sendText that resolved is in the
// peer's inbox, fakewa holds no stuck queue for our devices, no message
// needed a retry receipt, no client is stuck (ready, or a fresh QR when
// pairing had not completed), the Go program is alive, no error event.
// WASMEOW_KILLS (default 15) sets the number of kills, WASMEOW_FAULT_SEED
// the seed (default: random, printed); WASMEOW_FAULT_VERBOSE=1 prints each
// kill as it happens; WASMEOW_LOG_LEVEL (default error) the clients' log level.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStatic, startFakewa, launchPersistent, openPage, pageOptions, waitEvent, pairByQR, faultSeed, seededRandom, faultRecord, waitQueuesEmpty, decryptFailures, unackedMessageIDs } from '../test-support/e2e.js';

const KILLS = Number(process.env.WASMEOW_KILLS) || 15; // WASMEOW_KILL_PRIMED=1: see below
const SEED = faultSeed();
const rnd = seededRandom(SEED);

let server, fakewa, profile, page, dir;
const rec = faultRecord();
const KIM = '15550000071'; // the browser's main account
const LEO = '15550000072'; // a peer's phone
const peerSent = []; // every text Leo sent to Kim
const peerIDs = new Map(); // text -> message id
const ackedAtKill = new Set(); // texts Kim acknowledged before a kill (shown then; the report may have died with the browser)
// Leo sends text to Kim.
async function leoSends(text) {
  peerIDs.set(text, (await fakewa.api('POST', `/api/accounts/${LEO}/send`, { to: KIM, text })).id);
  peerSent.push(text);
}
const paired = new Map(); // pairing client name -> its account, once paired
const liveJIDs = new Set(); // our devices whose queues must drain

before(async () => {
  [server, fakewa] = await Promise.all([startStatic(), startFakewa()]);
  await fakewa.api('POST', '/api/accounts', { phone: KIM, pushName: 'Kim' });
  await fakewa.api('POST', '/api/accounts', { phone: LEO, pushName: 'Leo' });
});

after(async () => {
  await profile?.close().catch(() => {});
  await fakewa?.close();
  await server?.close();
});

const options = (clientId) => ({ auth: { strategy: 'local', clientId }, logLevel: process.env.WASMEOW_LOG_LEVEL || 'error' });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const names = (name) => page.evaluate((n) => (window.events[n] || []).map((e) => e.name + (e.payload?.reason ? `:${e.payload.reason}` : '')), name);

// A browser on the profile, its page recording into rec.
async function start() {
  dead = false;
  profile = await launchPersistent(dir);
  dir = profile.dir;
  page = await openPage(profile.ctx, server.url, pageOptions(fakewa));
  await rec.attach(page);
}

async function create(name) {
  await page.evaluate(([n, o]) => window.create(n, o), [name, options(name)]);
  await rec.track(page, name);
}

// Kills the browser ms from now; resolves once it is dead.
let dead = false;
const killIn = (ms) => sleep(ms).then(async () => {
  dead = true;
  const sentBefore = [...peerSent];
  await profile.kill();
  const unacked = await unackedMessageIDs(fakewa, KIM);
  for (const t of sentBefore) if (!unacked.has(peerIDs.get(t))) ackedAtKill.add(t);
});

// Whatever the page was doing when it died rejects: that is expected.
const mayDie = (p) => p.catch(() => {});

const phases = {
  // Restore from IndexedDB to ready, with texts waiting at the server.
  async login(i, t) {
    for (let k = 0; k < 2; k++) {
      await leoSends(`kill ${i} offline ${k}`);
    }
    const at = rnd.int(0, Math.round(t.login * 1.3));
    // The page is loaded first: a kill while playwright sets up its
    // bindings trips playwright itself (an uncaught "Cannot find parent
    // object"), and that is no part of the login.
    await start();
    const dying = killIn(at);
    await mayDie((async () => { await create('kim'); await page.evaluate(() => window.clients.kim.connect()); })());
    await dying;
    return `${at} ms into login`;
  },
  // Texts both ways in flight.
  async burst(i) {
    const at = rnd.int(0, 700);
    const dying = killIn(at);
    const texts = Array.from({ length: 8 }, (_, k) => `kill ${i} burst ${k}`);
    const sending = (async () => {
      for (const text of texts) {
        await leoSends(text);
        await sleep(rnd.int(10, 60));
      }
    })();
    // Kim's sends, paced, each reported to node the moment it resolves.
    await mayDie(page.evaluate(([to, i]) => {
      (async () => {
        for (let k = 0; k < 4; k++) {
          window.faultSend('kim', to, `kim ${i}.${k}`);
          await new Promise((r) => setTimeout(r, 40));
        }
      })();
    }, [LEO, i]));
    await dying;
    await sending;
    return `${at} ms into a burst`;
  },
  // QR shown, scan, pair-success, the 515 restart, first ready.
  async pairing(i, t) {
    const name = `p${i}`;
    const phone = `1555000${String(1000 + i).padStart(4, '0')}`;
    await fakewa.api('POST', '/api/accounts', { phone, pushName: `P${i}` });
    await create(name);
    await page.evaluate((n) => window.clients[n].connect(), name);
    const qr = await waitEvent(page, name, 'qr');
    const lead = 150; // the QR is on screen this long before the scan
    // A third of them within 60 ms of the scan, where the device may be
    // stored before the service heard the companion's answer.
    const at = rnd.next() < 1 / 3 ? lead + rnd.int(0, 60) : rnd.int(0, lead + Math.round(t.pair * 1.3));
    const dying = killIn(at);
    await sleep(lead);
    if (!dead) await fakewa.api('POST', `/api/accounts/${phone}/scan`, { qr: qr.payload.code }).catch(() => {});
    await dying;
    return { name, phone, where: at < lead ? `${at} ms after the QR, before the scan` : `${at - lead} ms after the scan` };
  },
};

// Starts again on the profile and checks every promise.
async function recover(i, pairingRound, outcomes) {
  await start();
  await create('kim');
  await page.evaluate(() => window.clients.kim.connect());
  await waitEvent(page, 'kim', 'ready', { timeout: 30000 }).catch(async (e) => {
    const stored = await page.evaluate(async () => ({ sessions: await window.wm.listSessions(), dbs: (await indexedDB.databases()).map((d) => d.name) })).catch((x) => x.message);
    const devices = (await fakewa.api('GET', '/api/accounts')).find((a) => a.phone === KIM)?.devices;
    throw new Error(`kill ${i}: kim never ready: ${e.message}; events ${await names('kim')}; across the pages: ${rec.trail.get('kim').slice(-30).join(' ')}; stored ${JSON.stringify(stored)}; fakewa's devices of Kim ${JSON.stringify(devices)}`);
  });
  const kimEvents = await names('kim');
  assert.ok(!kimEvents.some((n) => /^(qr|auth_failure|logged_out)/.test(n)), `kill ${i}: the paired session survived: ${kimEvents}`);
  if (pairingRound) {
    const { name, phone } = pairingRound;
    await create(name);
    await page.evaluate((n) => window.clients[n].connect(), name);
    const first = await page.waitForFunction((n) => window.events[n].find((e) => e.name === 'ready' || e.name === 'qr')?.name, name, { timeout: 30000 })
      .then((h) => h.jsonValue(), async (e) => { throw new Error(`kill ${i}: ${name} stuck, neither ready nor qr: ${e.message}; events ${await names(name)}`); });
    const evs = await names(name);
    let outcome = first;
    if (first === 'qr') {
      const failure = evs.find((n) => n.startsWith('auth_failure'));
      if (failure) {
        assert.match(failure, /^auth_failure:[a-z_]+$/, `kill ${i}: ${name} says why it starts over: ${evs}`);
        outcome = `qr after ${failure}`;
      }
      const qr = await waitEvent(page, name, 'qr');
      await fakewa.api('POST', `/api/accounts/${phone}/scan`, { qr: qr.payload.code });
      await waitEvent(page, name, 'ready');
    }
    outcomes[outcome] = (outcomes[outcome] || 0) + 1;
    pairingRound.outcome = outcome;
    paired.set(name, phone);
    liveJIDs.add(await page.evaluate((n) => window.clients[n].getCreds().me, name));
    // Both ways on the (restored or new) session.
    await fakewa.api('POST', `/api/accounts/${LEO}/send`, { to: phone, text: `to ${name}` });
    await rec.waitShown(name, [`to ${name}`]);
    const r = await page.evaluate(([n, to]) => window.faultSend(n, to, `from ${n}`), [name, LEO]);
    assert.ok(r.id, `kill ${i}: ${name} sends: ${JSON.stringify(r)}`);
  }
  liveJIDs.add(await page.evaluate(() => window.clients.kim.getCreds().me));
  // Nothing lost: every text Leo sent shown, every resolved sendText in his inbox.
  await rec.waitShown('kim', peerSent.filter((t) => !ackedAtKill.has(t)));
  const inbox = new Set((await fakewa.api('GET', `/api/accounts/${LEO}/messages`)).map((m) => m.id));
  for (const [client, sent] of rec.sent) {
    for (const [id, text] of sent) {
      if (!inbox.has(id)) await fakewa.waitInbox(LEO, (m) => m.id === id).catch(() => assert.fail(`kill ${i}: ${client}'s "${text}" (${id}) resolved but never reached Leo`));
    }
  }
  assert.deepEqual(await waitQueuesEmpty(fakewa, [...liveJIDs]), {}, `kill ${i}: no stuck queue`);
  assert.deepEqual(decryptFailures(fakewa), [], `kill ${i}: no retry receipt, no decrypt failure`);
  assert.deepEqual(rec.unmarkedRepeats('kim'), [], `kill ${i}: a repeat says redelivered`);
  assert.deepEqual(rec.errors, [], `kill ${i}: no error event`);
  assert.deepEqual(rec.console.filter((l) => /decrypt|bad mac|no session|exited|panic/i.test(l)), [], `kill ${i}: the console`);
  assert.ok(Array.isArray(await page.evaluate(() => window.wm.listSessions())), 'the Go program is alive');
}

test(`browser kills at seeded random moments (seed ${SEED}, ${KILLS} kills)`, { timeout: 15 * 60 * 1000 }, async () => {
  console.log(`kill suite: seed ${SEED} (WASMEOW_FAULT_SEED=${SEED} repeats it), ${KILLS} kills`);
  // Set-up: Kim paired, and the times the kill windows are drawn over.
  await start();
  await create('kim');
  let t0 = Date.now();
  await pairByQR(fakewa, page, 'kim', KIM);
  const t = { pair: Date.now() - t0 };
  await profile.ctx.close(); // a clean exit this once
  await start();
  t0 = Date.now();
  await create('kim');
  await page.evaluate(() => window.clients.kim.connect());
  await waitEvent(page, 'kim', 'ready');
  t.login = Date.now() - t0;
  console.log(`kill windows: pairing ${t.pair} ms from scan to ready, login ${t.login} ms from createClient to ready`);
  // The first burst is Kim and Leo's very first exchange (both sides start
  // a session at once: the case libsignal-go's in-place decryption attempts
  // broke, see sessionrepair/); WASMEOW_KILL_PRIMED=1 lets them talk first.
  if (process.env.WASMEOW_KILL_PRIMED) {
    await leoSends('hello kim');
    await rec.waitShown('kim', peerSent);
    const r = await page.evaluate((to) => window.faultSend('kim', to, 'hello leo'), LEO);
    assert.ok(r.id, `the first exchange: ${JSON.stringify(r)}`);
    await fakewa.waitInbox(LEO, (m) => m.id === r.id);
  }

  // Every phase a third of the kills, in a seeded order.
  const order = Array.from({ length: KILLS }, (_, i) => ['pairing', 'login', 'burst'][i % 3]);
  for (let i = order.length - 1; i > 0; i--) { const j = rnd.int(0, i); [order[i], order[j]] = [order[j], order[i]]; }
  const counts = { pairing: 0, login: 0, burst: 0 };
  const outcomes = {};
  const log = [];
  for (let i = 0; i < KILLS; i++) {
    const phase = order[i];
    if (phase === 'login') await profile.ctx.close().catch(() => {}); // login starts from a closed browser
    const r = await phases[phase](i, t);
    counts[phase]++;
    await recover(i, phase === 'pairing' ? r : null, outcomes);
    log.push(`${i} ${phase}: ${r.where ? `${r.where}: then ${r.outcome}` : r}`);
    if (process.env.WASMEOW_FAULT_VERBOSE) console.log(log.at(-1), rec.trail.get('kim')?.slice(-12).join(' '));
  }
  const repeats = rec.repeats('kim');
  const reportsLost = peerSent.filter((t) => !rec.texts('kim').has(t)).length; // acknowledged before a kill, report lost
  const sentCount = [...rec.sent.values()].reduce((n, m) => n + m.size, 0);
  console.log(log.join('\n'));
  console.log(`kill suite: ${KILLS} kills (pairing ${counts.pairing}, login ${counts.login}, burst ${counts.burst}); pairing outcomes after restart ${JSON.stringify(outcomes)}; ` +
    `${peerSent.length} texts to Kim all shown (${reportsLost} of them acknowledged before a kill whose report to the test died with the browser; ${rec.shown.get('kim').size} unique ids, ${repeats} shown more than once, each marked redelivered), ${sentCount} resolved sends all delivered, no retry receipt, no stuck queue`);
});
