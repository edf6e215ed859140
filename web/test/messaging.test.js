// Texts both ways between the browser client and another account's
// simulated phone, before and after a reload (keys from IndexedDB).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStatic, startFakewa, launchPersistent, openPage, pageOptions, waitEvent, eventCount } from '../test-support/e2e.js';

let server, fakewa, profile, page;
const FRANK = '15550000006'; // the browser's account
const GINA = '15550000007'; // a peer's phone

before(async () => {
  [server, fakewa] = await Promise.all([startStatic(), startFakewa()]);
  profile = await launchPersistent();
  page = await openPage(profile.ctx, server.url, pageOptions(fakewa));
  await fakewa.api('POST', '/api/accounts', { phone: FRANK, pushName: 'Frank' });
  await fakewa.api('POST', '/api/accounts', { phone: GINA, pushName: 'Gina' });
});

after(async () => {
  await profile?.close();
  await fakewa?.close();
  await server?.close();
});

const options = () => ({ auth: { strategy: 'local', clientId: 'frank' }, logLevel: 'error' });

async function exchange(round) {
  // Peer -> browser.
  const from = await eventCount(page, 'frank');
  const text = `hello frank, round ${round}`;
  const { id } = await fakewa.api('POST', `/api/accounts/${GINA}/send`, { to: FRANK, text });
  const deadline = Date.now() + 20000;
  let msg;
  while (!msg) {
    msg = await page.evaluate(([f, t]) => window.events.frank.slice(f).find((e) => e.name === 'message' && e.payload.text === t)?.payload, [from, text]);
    if (!msg) {
      if (Date.now() > deadline) throw new Error(`message ${id} never arrived; events: ${await page.evaluate(() => JSON.stringify(window.events.frank.map((e) => e.name)))}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  assert.equal(msg.id, id);
  assert.ok(msg.sender.startsWith(GINA), msg.sender);
  assert.ok(msg.chat.startsWith(GINA), msg.chat);
  assert.equal(msg.fromMe, false);
  assert.ok(Math.abs(msg.time - Date.now()) < 60000, 'time is a unix ms timestamp');
  // Browser -> peer.
  const reply = `hi gina, round ${round}`;
  const sentID = await page.evaluate(([to, t]) => window.clients.frank.sendText(to, t), [`${GINA}@s.whatsapp.net`, reply]);
  assert.ok(sentID.length > 0);
  const got = await fakewa.waitInbox(GINA, (m) => m.text === reply);
  assert.equal(got.id, sentID);
}

test('texts both ways, and still after a reload', async () => {
  await page.evaluate((o) => window.create('frank', o), options());
  await page.evaluate(() => window.clients.frank.connect());
  const qr = await waitEvent(page, 'frank', 'qr');
  await fakewa.api('POST', `/api/accounts/${FRANK}/scan`, { qr: qr.payload.code });
  await waitEvent(page, 'frank', 'ready');
  await exchange(1);
  await exchange(2);
  assert.deepEqual(await messageTexts(), [1, 2].map((r) => `hello frank, round ${r}`));
  await page.reload();
  await page.waitForFunction(() => window.harnessReady === true);
  await page.evaluate((o) => window.create('frank', o), options());
  await page.evaluate(() => window.clients.frank.connect());
  await waitEvent(page, 'frank', 'ready');
  await exchange(3);
  // The server cuts the socket: whatsmeow reconnects by itself and texts flow again.
  const me = await page.evaluate(() => window.clients.frank.getCreds().me);
  const from = await eventCount(page, 'frank');
  await fakewa.api('POST', `/api/devices/${encodeURIComponent(me)}/cut`, { afterFrames: 0 });
  const lost = await waitEvent(page, 'frank', 'disconnected', { from });
  assert.equal(lost.payload.reason, 'connection_lost');
  await waitEvent(page, 'frank', 'ready', { from });
  await exchange(4);
  // A bare phone number is a JID too.
  const id = await page.evaluate((to) => window.clients.frank.sendText(to, 'by number'), GINA);
  assert.equal((await fakewa.waitInbox(GINA, (m) => m.text === 'by number')).id, id);
  const bad = await page.evaluate(() => window.clients.frank.sendText('not a jid!', 'x').then(() => null, (e) => e.code));
  assert.equal(bad, 'invalid_jid');
  assert.deepEqual(await messageTexts(), [3, 4].map((r) => `hello frank, round ${r}`));
});

// The phone's own protocol traffic (the app-state key share right after
// pairing) is not a chat message: every message event must be a peer's text.
const messageTexts = () => page.evaluate(() => window.events.frank.filter((e) => e.name === 'message').map((e) => e.payload.text));
