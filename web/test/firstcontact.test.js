// First contact between the browser and a peer it never wrote to: the send
// builds a Signal session from the peer's prekey bundle while the peer's
// own first (prekey) messages may be arriving. Checked: both ways arrive
// with no retry receipt (a send and a decryption never overwrite each
// other's session record), and a sendText that resolves reached the peer
// even when fetching the peer's keys failed once (whatsmeow leaves such a
// device out of the message silently; wasmeow sends again) or rejects with
// send_failed naming the device when it keeps failing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStatic, startFakewa, launchBrowser, openPage, pageOptions, waitMessage, pairByQR, decryptFailures, waitQueuesEmpty } from '../test-support/e2e.js';

let server, fakewa, browser, page;
const ERIN = '15550000091'; // the browser's account
const peers = Array.from({ length: 6 }, (_, i) => `1555000010${i}`); // phones Erin never wrote to

before(async () => {
  [server, fakewa] = await Promise.all([startStatic(), startFakewa()]);
  await fakewa.api('POST', '/api/accounts', { phone: ERIN, pushName: 'Erin' });
  for (const p of peers) await fakewa.api('POST', '/api/accounts', { phone: p, pushName: `P${p.slice(-1)}` });
  browser = await launchBrowser();
  page = await openPage(await browser.newContext(), server.url, pageOptions(fakewa));
  await page.evaluate((o) => window.create('erin', o), { auth: { strategy: 'local', clientId: 'erin' }, logLevel: 'error' });
  const me = await pairByQR(fakewa, page, 'erin', ERIN);
  // Each peer's privacy token reaches Erin first: a send to someone whose
  // token one does not hold is refused with 463 (fakewa, as today's
  // service), which is not what this file is about. No Signal session yet.
  for (const p of peers) await fakewa.api('POST', `/api/accounts/${p}/tokens`, { to: ERIN, notify: true });
  assert.deepEqual(await waitQueuesEmpty(fakewa, [me]), {}, 'the tokens were taken');
});

after(async () => {
  await browser?.close();
  await fakewa?.close();
  await server?.close();
});

const send = (to, text) => page.evaluate(([t, x]) => window.clients.erin.sendText(t, x).then((id) => ({ id }), (e) => ({ code: e.code, message: e.message })), [to, text]);
const inboxCount = async (phone, id) => (await fakewa.api('GET', `/api/accounts/${phone}/messages`)).filter((m) => m.id === id).length;

test('texts cross at first contact: all arrive both ways, no retry receipt', async () => {
  for (const peer of peers.slice(0, 4)) {
    const theirs = Array.from({ length: 4 }, (_, k) => `from ${peer} ${k}`);
    const ours = [0, 1, 2].map((k) => `to ${peer} ${k}`);
    const [, sent] = await Promise.all([
      (async () => { for (const t of theirs) await fakewa.api('POST', `/api/accounts/${peer}/send`, { to: ERIN, text: t }); })(),
      Promise.all(ours.map((t) => send(peer, t))),
    ]);
    for (const t of theirs) await waitMessage(page, 'erin', (m) => m.text === t);
    for (const [k, r] of sent.entries()) {
      assert.ok(r.id, `send ${k} to ${peer}: ${JSON.stringify(r)}`);
      const got = await fakewa.waitInbox(peer, (m) => m.id === r.id);
      assert.equal(got.text, ours[k]);
    }
  }
  assert.deepEqual(decryptFailures(fakewa), [], 'no retry receipt, no decrypt failure');
});

test('a key fetch that fails once at first contact: the send still reaches the peer, once', async () => {
  const peer = peers[4];
  await fakewa.api('POST', '/api/faults/fail-prekey-fetch', { count: 1 });
  const r = await send(peer, 'after a failed key fetch');
  assert.ok(r.id, JSON.stringify(r));
  await fakewa.waitInbox(peer, (m) => m.id === r.id);
  assert.equal(await inboxCount(peer, r.id), 1, 'delivered once');
  assert.ok(fakewa.stdout.join('').includes('failed by fault injection'), 'the fault was hit');
});

test('a key fetch that keeps failing: sendText rejects with send_failed naming the device', async () => {
  const peer = peers[5];
  await fakewa.api('POST', '/api/faults/fail-prekey-fetch', { count: 2 });
  const r = await send(peer, 'never encrypted for the peer');
  assert.equal(r.code, 'send_failed', JSON.stringify(r));
  assert.match(r.message, new RegExp(`could not be encrypted for ${peer}`), r.message);
  // Keys come back: the next send reaches the peer.
  const ok = await send(peer, 'keys are back');
  assert.ok(ok.id, JSON.stringify(ok));
  await fakewa.waitInbox(peer, (m) => m.id === ok.id);
});
