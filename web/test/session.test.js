// Pairing, reload, logout and sessions against fakewa, in a persistent
// profile (IndexedDB on disk, as a user's browser keeps it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStatic, startFakewa, launchPersistent, openPage, pageOptions, waitEvent, events, eventCount } from '../test-support/e2e.js';

let server, fakewa, profile, page;

before(async () => {
  [server, fakewa] = await Promise.all([startStatic(), startFakewa()]);
  profile = await launchPersistent();
  page = await openPage(profile.ctx, server.url, pageOptions(fakewa));
});

after(async () => {
  await profile?.close();
  await fakewa?.close();
  await server?.close();
});

const ALICE = '15550000001';
const BOB = '15550000002';
const CAROL = '15550000003';

function clientOptions(clientId, extra = {}) {
  return { auth: { strategy: 'local', clientId }, logLevel: 'error', ...extra };
}

async function create(name, options) {
  return page.evaluate(([n, o]) => window.create(n, o), [name, options]);
}

// Connects client `name`, scans its first QR as `phone`'s phone and waits for ready.
async function pairByQR(name, phone) {
  const from = await eventCount(page, name);
  await page.evaluate((n) => window.clients[n].connect(), name);
  const qr = await waitEvent(page, name, 'qr', { from });
  assert.match(qr.payload.code, /^https:\/\/wa\.me\/settings\/linked_devices#[^,]+,[^,]+,[^,]+,[^,]+,1$/,
    "a QR code is today's link: ref,noiseKey,identityKey,advSecret,clientType (1: Chrome)");
  const { device } = await fakewa.api('POST', `/api/accounts/${phone}/scan`, { qr: qr.payload.code });
  const auth = await waitEvent(page, name, 'authenticated', { from });
  assert.equal(auth.payload.method, 'pairing');
  await waitEvent(page, name, 'ready', { from });
  return device;
}

async function databases() {
  return page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name).sort());
}

let aliceDevice, bobDevice;

test('QR pairing through the control API reaches authenticated and ready', async () => {
  await fakewa.api('POST', '/api/accounts', { phone: ALICE, pushName: 'Alice' });
  await fakewa.api('POST', '/api/accounts', { phone: BOB, pushName: 'Bob' });
  await fakewa.api('POST', '/api/accounts', { phone: CAROL, pushName: 'Carol' });
  await create('alice', clientOptions('alice'));
  // A listener that throws must not break the client: it becomes an error event.
  await page.evaluate(() => window.clients.alice.once('qr', () => { throw new Error('listener bug'); }));
  aliceDevice = await pairByQR('alice', ALICE);
  const err = await waitEvent(page, 'alice', 'error');
  assert.match(err.payload.message, /listener bug/);
  const creds = await page.evaluate(() => window.clients.alice.getCreds());
  assert.equal(creds.registered, true);
  assert.equal(creds.me, aliceDevice);
  assert.ok(creds.me.startsWith(ALICE + ':'), creds.me);
  for (const k of Object.keys(creds)) assert.ok(['me', 'lid', 'platform', 'pushName', 'businessName', 'registered'].includes(k), `creds leaks ${k}`);
  const names = await events(page, 'alice');
  assert.ok(names.includes('creds.update'), `events: ${names}`);
  assert.equal(await page.evaluate(() => window.clients.alice.state), 'ready');
  assert.ok((await databases()).includes('wasmeow:alice'));
});

test('a reload reaches ready from IndexedDB with no QR', async () => {
  await page.reload();
  await page.waitForFunction(() => window.harnessReady === true);
  await create('alice', clientOptions('alice'));
  await page.evaluate(() => window.clients.alice.connect());
  const ready = await waitEvent(page, 'alice', 'ready');
  const names = await events(page, 'alice');
  assert.ok(!names.includes('qr'), `no QR after a reload: ${names}`);
  const auth = await waitEvent(page, 'alice', 'authenticated');
  assert.equal(auth.payload.method, 'stored');
  assert.equal(ready.payload.me, aliceDevice);
  // The figure: navigation start to ready, restored from IndexedDB (disk), over three reloads.
  const figures = [ready.at];
  for (let i = 0; i < 2; i++) {
    await page.reload();
    await page.waitForFunction(() => window.harnessReady === true);
    await create('alice', clientOptions('alice'));
    await page.evaluate(() => window.clients.alice.connect());
    figures.push((await waitEvent(page, 'alice', 'ready')).at);
  }
  figures.sort((x, y) => x - y);
  console.log(`page load to ready with a restored session (local strategy, persistent profile): median ${figures[1].toFixed(0)} ms of ${figures.map((f) => f.toFixed(0)).join(', ')} ms`);
});

test('two clientIds in one page stay independent', async () => {
  await create('bob', clientOptions('bob'));
  bobDevice = await pairByQR('bob', BOB);
  const [a, b] = await page.evaluate(() => [window.clients.alice.getCreds(), window.clients.bob.getCreds()]);
  assert.equal(a.me, aliceDevice);
  assert.equal(b.me, bobDevice);
  assert.deepEqual((await page.evaluate(() => window.wm.listSessions())).sort(), ['alice', 'bob']);
  assert.equal(await page.evaluate(() => window.clients.alice.state), 'ready');
});

test('server-side logout wipes that session only and fires logged_out', async () => {
  const from = await eventCount(page, 'bob');
  await fakewa.api('POST', `/api/devices/${encodeURIComponent(bobDevice)}/logout`);
  const out = await waitEvent(page, 'bob', 'logged_out', { from });
  assert.match(out.payload.reason, /server_logout/);
  await page.waitForFunction(async () => !(await indexedDB.databases()).some((d) => d.name === 'wasmeow:bob'));
  assert.equal(await page.evaluate(() => window.clients.bob.getCreds().registered), false);
  assert.equal(await page.evaluate(() => window.clients.alice.state), 'ready', 'alice is untouched');
  assert.ok((await databases()).includes('wasmeow:alice'));
  // The next connect starts over with a fresh QR.
  const again = await eventCount(page, 'bob');
  await page.evaluate(() => window.clients.bob.connect());
  await waitEvent(page, 'bob', 'qr', { from: again });
  await page.evaluate(() => window.clients.bob.disconnect());
});

test('logout clears IndexedDB and the next connect shows a QR', async () => {
  const from = await eventCount(page, 'alice');
  await page.evaluate(() => window.clients.alice.logout());
  const out = await waitEvent(page, 'alice', 'logged_out', { from });
  assert.equal(out.payload.reason, 'logout');
  assert.ok(!(await databases()).includes('wasmeow:alice'), 'the database is deleted');
  const upd = await waitEvent(page, 'alice', 'creds.update', { from });
  assert.equal(upd.payload.creds.registered, false);
  const again = await eventCount(page, 'alice');
  await page.evaluate(() => window.clients.alice.connect());
  await waitEvent(page, 'alice', 'qr', { from: again });
  // Pair again: a logged-out session can be re-linked.
  const { device } = await fakewa.api('POST', `/api/accounts/${ALICE}/scan`, {
    qr: (await waitEvent(page, 'alice', 'qr', { from: again })).payload.code,
  });
  await waitEvent(page, 'alice', 'ready', { from: again });
  assert.notEqual(device, aliceDevice, 'a new device');
});

test('pairing code: resolves after the server accepted, rejects bad numbers', async () => {
  await create('carol', clientOptions('carol'));
  // A disconnect while QR codes rotate stops them; the next connect pairs normally.
  await page.evaluate(() => window.clients.carol.connect());
  await waitEvent(page, 'carol', 'qr');
  await page.evaluate(() => window.clients.carol.disconnect());
  const dis = await waitEvent(page, 'carol', 'disconnected');
  assert.equal(dis.payload.reason, 'client');
  assert.equal(await page.evaluate(() => window.clients.carol.state), 'disconnected');
  for (const bad of ['0123456789', '12', 'not a phone']) {
    const r = await page.evaluate(async (p) => window.clients.carol.requestPairingCode(p).then(() => ({ ok: true }), (e) => ({ code: e.code, message: e.message })), bad);
    assert.equal(r.code, 'invalid_phone', `${bad}: ${r.message}`);
  }
  // A well-formed number with no account: the server refuses, and so does the promise.
  const unknown = await page.evaluate(() => window.clients.carol.requestPairingCode('+1 555 999 0000').then(() => ({ ok: true }), (e) => ({ code: e.code, message: e.message })));
  assert.equal(unknown.code, 'invalid_phone', unknown.message);
  assert.match(unknown.message, /404|item-not-found/);
  const code = await page.evaluate((p) => window.clients.carol.requestPairingCode(p), CAROL);
  assert.match(code, /^[A-Z0-9]{4}-[A-Z0-9]{4}$/);
  const ev = await waitEvent(page, 'carol', 'pairing_code');
  assert.equal(ev.payload.code, code);
  await fakewa.api('POST', `/api/accounts/${CAROL}/link-code`, { code });
  const auth = await waitEvent(page, 'carol', 'authenticated');
  assert.equal(auth.payload.method, 'pairing');
  await waitEvent(page, 'carol', 'ready');
  assert.ok((await page.evaluate(() => window.clients.carol.getCreds().me)).startsWith(CAROL + ':'));
});

test('a session open in one tab is locked for another', async () => {
  const other = await openPage(profile.ctx, server.url, pageOptions(fakewa));
  const r = await other.evaluate((o) => window.wm.createClient(o).then(() => ({ ok: true }), (e) => ({ code: e.code, message: e.message })), clientOptions('carol'));
  assert.equal(r.code, 'session_locked', r.message);
  // Once the first tab lets go, the second one can open it.
  await page.evaluate(() => window.clients.carol.destroy());
  await other.evaluate((o) => window.create('carol', o), clientOptions('carol'));
  await other.evaluate(() => window.clients.carol.connect());
  await waitEvent(other, 'carol', 'ready');
  await other.close();
});

test('QR codes rotate, run out with qr_timeout, and the next connect shows fresh ones', async () => {
  const DAN = '15550000004';
  await fakewa.api('POST', '/api/accounts', { phone: DAN, pushName: 'Dan' });
  await create('dan', clientOptions('dan', { qrTimeoutMs: 400, qrMaxRetries: 2 }));
  await page.evaluate(() => window.clients.dan.connect());
  const failure = await waitEvent(page, 'dan', 'auth_failure');
  assert.equal(failure.payload.reason, 'qr_timeout');
  const evs = await page.evaluate(() => window.events.dan.map((e) => ({ name: e.name, payload: e.payload })));
  const codes = evs.filter((e) => e.name === 'qr').map((e) => e.payload.code);
  assert.equal(codes.length, 3, 'the first code and 2 retries');
  assert.equal(new Set(codes).size, 3, 'each code is new');
  assert.ok(evs.filter((e) => e.name === 'qr').every((e) => e.payload.timeoutMs === 400));
  const disc = await waitEvent(page, 'dan', 'disconnected');
  assert.equal(disc.payload.reason, 'qr_timeout');
  assert.equal(await page.evaluate(() => window.clients.dan.state), 'disconnected');
  // The server forgot the codes with the connection: a late scan fails.
  await assert.rejects(fakewa.api('POST', `/api/accounts/${DAN}/scan`, { qr: codes[2] }), (e) => e.status === 409);
  // A new connect brings new codes, and one of them pairs.
  const device = await pairByQR('dan', DAN);
  assert.ok(device.startsWith(DAN + ':'), device);
  const fresh = await page.evaluate(() => window.events.dan.filter((e) => e.name === 'qr').map((e) => e.payload.code));
  assert.ok(fresh.length > 3 && !codes.includes(fresh[3]), 'the new connection showed a code not seen before');
});
