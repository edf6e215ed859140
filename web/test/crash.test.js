// A browser killed while messages arrive (no unload, no flush) comes back on
// the same profile with no QR, gets every message, and both directions still
// decrypt: no "Bad MAC", no "No session record", no retry receipts. And a
// browser whose IndexedDB cannot store acknowledges nothing it did not store.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStatic, startFakewa, launchPersistent, openPage, pageOptions, waitEvent, decryptFailures, unackedMessageIDs } from '../test-support/e2e.js';

let server, fakewa;
const profiles = new Set(); // every browser a test started; each is closed at the end

async function launch(dir) {
  const p = await launchPersistent(dir);
  profiles.add(p);
  return p;
}

async function crash(p) {
  profiles.delete(p);
  await p.kill();
}
const KIM = '15550000011'; // the browser's account
const LEO = '15550000012'; // a peer's phone
const BURST = 40;

before(async () => {
  [server, fakewa] = await Promise.all([startStatic(), startFakewa()]);
  await fakewa.api('POST', '/api/accounts', { phone: KIM, pushName: 'Kim' });
  await fakewa.api('POST', '/api/accounts', { phone: LEO, pushName: 'Leo' });
});

after(async () => {
  for (const p of profiles) await p.close().catch(() => {});
  await fakewa?.close();
  await server?.close();
});

const options = () => ({ auth: { strategy: 'local', clientId: 'kim' }, logLevel: 'error' });
const texts = (page, client) => page.evaluate((c) => window.events[c].filter((e) => e.name === 'message').map((e) => e.payload.text), client);

async function waitTexts(page, client, want, timeout = 30000) {
  const end = Date.now() + timeout;
  for (;;) {
    const got = new Set(await texts(page, client));
    const missing = want.filter((t) => !got.has(t));
    if (missing.length === 0) return;
    if (Date.now() > end) {
      // What the server still holds for the account, and what the page saw, to tell a
      // message never delivered from one delivered and not shown.
      const acct = (await fakewa.api('GET', '/api/accounts')).find((a) => a.phone === KIM);
      const seen = await page.evaluate((c) => window.events[c].map((e) => e.name + (e.payload?.code ? `:${e.payload.code}` : '')), client);
      throw new Error(`never arrived at ${client}: ${missing.join(', ')}; server: ${JSON.stringify(acct?.devices)}; events: ${seen.join(' ')}; decrypt failures: ${JSON.stringify(decryptFailures(fakewa))}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const waitInbox = (text) => fakewa.waitInbox(LEO, (m) => m.text === text);

test('a crash mid-burst loses no message and breaks no session', async () => {
  let profile = await launch();
  let page = await openPage(profile.ctx, server.url, pageOptions(fakewa));
  // Every text the page is shown reaches the test at once, so the record
  // survives the kill (reading window.events just before it would miss
  // what arrives between the read and the kill).
  const shownBefore = new Set();
  await page.exposeFunction('reportShown', (text) => shownBefore.add(text));
  await page.evaluate((o) => window.create('kim', o), options());
  await page.evaluate(() => window.clients.kim.on('message', (m) => window.reportShown(m.text)));
  await page.evaluate(() => window.clients.kim.connect());
  const qr = await waitEvent(page, 'kim', 'qr');
  await fakewa.api('POST', `/api/accounts/${KIM}/scan`, { qr: qr.payload.code });
  await waitEvent(page, 'kim', 'ready');
  await fakewa.api('POST', `/api/accounts/${LEO}/send`, { to: KIM, text: 'before' });
  await waitTexts(page, 'kim', ['before']);
  await page.evaluate((to) => window.clients.kim.sendText(to, 'reply before'), LEO);
  await waitInbox('reply before');

  // The burst: kill the browser once part of it has been shown to the page.
  const burst = Array.from({ length: BURST }, (_, i) => `burst ${i}`);
  const ids = new Map(); // text -> message id
  const sending = (async () => {
    for (const text of burst) {
      ids.set(text, (await fakewa.api('POST', `/api/accounts/${LEO}/send`, { to: KIM, text })).id);
      await new Promise((r) => setTimeout(r, 25)); // a phone typing fast, not one batch
    }
  })();
  await page.waitForFunction(() => window.events.kim.filter((e) => e.name === 'message').length >= 8);
  await crash(profile);
  const shownBurst = burst.filter((t) => shownBefore.has(t));
  await sending;
  assert.ok(shownBurst.length < BURST, `the crash must come mid-burst (saw ${shownBurst.length} of ${BURST})`);
  // A message the page showed just before the kill may have been acknowledged
  // while its report to the test was still on its way out of the dying
  // browser. The server knows: it keeps every message not acknowledged.
  const unacked = await unackedMessageIDs(fakewa, KIM);
  const reportLost = burst.filter((t) => !shownBefore.has(t) && !unacked.has(ids.get(t)));

  profile = await launch(profile.dir);
  page = await openPage(profile.ctx, server.url, pageOptions(fakewa));
  await page.evaluate((o) => window.create('kim', o), options());
  await page.evaluate(() => window.clients.kim.connect());
  await waitEvent(page, 'kim', 'ready');
  const names = await page.evaluate(() => window.events.kim.map((e) => e.name));
  assert.ok(!names.includes('qr'), `the session survived the crash: ${names}`);
  // Every message not shown before the crash arrives now (redelivered from
  // the server's offline queue, or re-emitted from the event buffer).
  await waitTexts(page, 'kim', burst.filter((t) => !shownBefore.has(t) && !reportLost.includes(t)));
  // Those acknowledged ones were shown before the kill: wasmeow acknowledges
  // a message only once its event was emitted and its state stored.
  const shownAfter = new Set(await texts(page, 'kim'));
  const unseen = reportLost.filter((t) => !shownAfter.has(t));
  // A message the page was shown before the crash and is shown again (its
  // ack had not left) says so.
  const again = await page.evaluate(() => window.events.kim.filter((e) => e.name === 'message').map((e) => e.payload));
  const repeated = again.filter((m) => shownBefore.has(m.text));
  for (const m of repeated) assert.equal(m.redelivered, true, `${m.text} was shown before the crash: ${JSON.stringify(m)}`);
  assert.ok(again.filter((m) => !shownBefore.has(m.text)).every((m) => typeof m.redelivered === 'boolean'));
  // And the ratchets on both sides still agree, in both directions.
  await fakewa.api('POST', `/api/accounts/${LEO}/send`, { to: KIM, text: 'after' });
  await waitTexts(page, 'kim', ['after']);
  await page.evaluate((to) => window.clients.kim.sendText(to, 'reply after'), LEO);
  await waitInbox('reply after');
  const errors = await page.evaluate(() => window.events.kim.filter((e) => e.name === 'error').map((e) => e.payload.message));
  assert.deepEqual(errors, []);
  const retries = decryptFailures(fakewa); // fakewa's log lines go to its stdout
  assert.deepEqual(retries, [], 'no message needed a retry receipt or failed to decrypt');
  console.log(`crash after ${shownBurst.length} of ${BURST} burst messages were shown; all ${BURST} accounted for after restart, ${repeated.length} shown again marked redelivered, ${unseen.length} acknowledged before the kill whose report died with the browser`);
});

test('while IndexedDB cannot store, nothing is acknowledged, nothing is lost, the client recovers, and other sessions carry on', async () => {
  const MIA = '15550000013';
  const NED = '15550000014';
  await fakewa.api('POST', '/api/accounts', { phone: MIA, pushName: 'Mia' });
  await fakewa.api('POST', '/api/accounts', { phone: NED, pushName: 'Ned' });
  // Mia keeps her session in IndexedDB; Ned, in the same page, in memory.
  const opts = (clientId, strategy = 'local') => ({ auth: { strategy, clientId }, logLevel: 'error' });
  const profile = await launch();
  const page = await openPage(profile.ctx, server.url, pageOptions(fakewa));
  // A small disk: chromium's own quota for the origin, through the DevTools
  // protocol (it must be set before the origin first uses IndexedDB).
  const cdp = await profile.ctx.newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(server.url).origin, quotaSize: 16 << 20 });
  for (const [name, phone, strategy] of [['mia', MIA, 'local'], ['ned', NED, 'none']]) {
    await page.evaluate(([n, o]) => window.create(n, o), [name, opts(name, strategy)]);
    await page.evaluate((n) => window.clients[n].connect(), name);
    const qr = await waitEvent(page, name, 'qr');
    await fakewa.api('POST', `/api/accounts/${phone}/scan`, { qr: qr.payload.code });
    await waitEvent(page, name, 'ready');
  }
  await fakewa.api('POST', `/api/accounts/${LEO}/send`, { to: MIA, text: 'stored' });
  await waitTexts(page, 'mia', ['stored']);

  // The disk fills up: other data of the page takes all that is left, so
  // every further IndexedDB write fails with a genuine QuotaExceededError.
  const filled = await page.evaluate(async () => {
    const db = await new Promise((res, rej) => {
      const q = indexedDB.open('filler', 1);
      q.onupgradeneeded = () => q.result.createObjectStore('blobs');
      q.onsuccess = () => res(q.result);
      q.onerror = () => rej(q.error);
    });
    let bytes = 0;
    for (let size = 1 << 20; size >= 64; size >>= 1) {
      for (;;) {
        const ok = await new Promise((res) => {
          const tx = db.transaction('blobs', 'readwrite');
          const blob = new Uint8Array(size); // random: incompressible
          for (let i = 0; i < size; i += 65536) crypto.getRandomValues(blob.subarray(i, i + 65536));
          tx.objectStore('blobs').put(blob, bytes);
          tx.oncomplete = () => res(true);
          tx.onabort = () => res(tx.error?.name === 'QuotaExceededError' ? false : tx.error?.name);
        });
        if (ok !== true) { if (ok !== false) throw new Error(`filler write failed: ${ok}`); break; }
        bytes += size;
      }
    }
    db.close();
    return bytes;
  });
  assert.ok(filled > 0, 'the filler took the free space');
  const lost = ['while full 1', 'while full 2', 'while full 3'];
  for (const text of lost) await fakewa.api('POST', `/api/accounts/${LEO}/send`, { to: MIA, text });
  // The page hears why (the store's commit failed) ...
  const err = await waitEvent(page, 'mia', 'error');
  assert.equal(err.payload.code, 'store_failed');
  assert.match(err.payload.message, /QuotaExceededError/);
  // ... and the client stops rather than carry on half-working.
  const disc = await waitEvent(page, 'mia', 'disconnected');
  assert.equal(disc.payload.reason, 'store_failed');
  assert.equal(await page.evaluate(() => window.clients.mia.state), 'disconnected');
  // ... and the server got no receipt for what could not be stored.
  const me = await page.evaluate(() => window.clients.mia.getCreds().me);
  const accounts = await fakewa.api('GET', '/api/accounts');
  const queued = accounts.flatMap((a) => a.devices || []).find((d) => d.jid === me)?.queued;
  assert.ok(queued >= lost.length, `the server still holds the ${lost.length} messages that could not be stored (queued: ${queued})`);
  // Ned's session is not held up by Mia's: it acks and sends.
  await fakewa.api('POST', `/api/accounts/${LEO}/send`, { to: NED, text: 'to ned while mia is full' });
  await waitTexts(page, 'ned', ['to ned while mia is full']);
  await page.evaluate((to) => window.clients.ned.sendText(to, 'ned while mia is full'), LEO);
  await waitInbox('ned while mia is full');
  assert.deepEqual(await page.evaluate(() => window.events.ned.filter((e) => e.name === 'error' || e.name === 'disconnected')), []);

  // Space is freed; the documented recovery: destroy the client (it says
  // what it could not flush), create it again and connect.
  await page.evaluate(() => new Promise((res, rej) => { const q = indexedDB.deleteDatabase('filler'); q.onsuccess = res; q.onerror = () => rej(q.error); }));
  const destroyed = await page.evaluate(() => window.clients.mia.destroy().then(() => 'ok', (e) => e.message));
  assert.match(destroyed, /QuotaExceededError/, 'destroy reports the writes it could not flush');
  await page.evaluate(() => { window.events.mia = []; });
  await page.evaluate((o) => window.create('mia', o), opts('mia'));
  await page.evaluate(() => window.clients.mia.connect());
  await waitEvent(page, 'mia', 'ready');
  const names = await page.evaluate(() => window.events.mia.map((e) => e.name));
  assert.ok(!names.includes('qr'), `the stored session is intact: ${names}`);
  await waitTexts(page, 'mia', lost); // none lost after the failed commits
  // And the session still decrypts both ways.
  await fakewa.api('POST', `/api/accounts/${LEO}/send`, { to: MIA, text: 'after recovery' });
  await waitTexts(page, 'mia', ['after recovery']);
  await page.evaluate((to) => window.clients.mia.sendText(to, 'mia after recovery'), LEO);
  await waitInbox('mia after recovery');
});
