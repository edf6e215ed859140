// Sessions for a fleet (issue 17): pages on different browsers keep a
// session on the session service (cmd/wasmeow-sessiond on a throwaway
// PostgreSQL) through httpKeyStore, with a lease so that it runs in one
// place at a time. Short lease TTLs keep it quick.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStatic, startFakewa, launchBrowser, launchPersistent, openPage, pageOptions, waitEvent, events, pairByQR, waitMessage, decryptFailures } from '../test-support/e2e.js';
import { startSessiond } from '../test-support/sessiond.js';

let server, fakewa, sessiond, browser;
const TTL = 3000;
const PEER = '15550001700';

before(async () => {
  [server, fakewa, sessiond] = await Promise.all([startStatic(), startFakewa(), startSessiond({ fleet: 'native', sealed: 'e2e' })]);
  browser = await launchBrowser();
  await fakewa.api('POST', '/api/accounts', { phone: PEER, pushName: 'Peer' });
});

after(async () => {
  await browser?.close();
  await Promise.all([fakewa?.close(), sessiond?.close(), server?.close()]);
});

// A page whose window.store is an httpKeyStore for session as holder.
async function fleetPage(ctx, session, holder, extra = {}) {
  const page = await openPage(ctx, server.url, pageOptions(fakewa));
  await page.evaluate(async ([url, token, session, holder, ttl, extra]) => {
    const m = await import('/wasmeow.js');
    window.lost = [];
    window.store = m.httpKeyStore({ url, token, session, holder, leaseTtlMs: ttl, onLeaseLost: (e) => window.lost.push({ code: e.code, holder: e.holder }), ...extra });
  }, [sessiond.url, sessiond.tokens[extra.tenant ?? 'fleet'], session, holder, TTL, extra.options ?? {}]);
  return page;
}

const create = (page, name, session) => page.evaluate(([n, s]) => window.create(n, { logLevel: 'error', auth: { strategy: 'custom', clientId: s, keys: window.store, creds: window.store.creds } }), [name, session]);
// Settles a page promise as {ok} or {code, message, holder}.
const settle = (page, fn, arg) => page.evaluate(([f, a]) => (0, eval)(f)(a).then((v) => ({ ok: true, v }), (e) => ({ ok: false, code: e.code, message: e.message, holder: e.holder })), [fn.toString(), arg]);

test('two browsers contend for one session: exactly one gets the lease and runs it, the other is told who holds it', async () => {
  const phone = '15550001701';
  await fakewa.api('POST', '/api/accounts', { phone, pushName: 'Contended' });
  const [ctxA, ctxB] = await Promise.all([browser.newContext(), browser.newContext()]);
  const [a, b] = await Promise.all([fleetPage(ctxA, 'contended', 'machine-a'), fleetPage(ctxB, 'contended', 'machine-b')]);
  const acquire = () => window.store.acquire();
  const got = await Promise.all([settle(a, acquire), settle(b, acquire)]);
  assert.equal(got.filter((g) => g.ok).length, 1, `exactly one holder: ${JSON.stringify(got)}`);
  const [winner, loser] = got[0].ok ? [a, b] : [b, a];
  const [winnerName, loserResult] = got[0].ok ? ['machine-a', got[1]] : ['machine-b', got[0]];
  assert.equal(loserResult.code, 'session_locked');
  assert.equal(loserResult.holder, winnerName);
  assert.match(loserResult.message, new RegExp(winnerName));
  // The winner pairs and runs it; the loser's client cannot start on it.
  await create(winner, 'c', 'contended');
  await pairByQR(fakewa, winner, 'c', phone);
  const start = await settle(loser, async () => { await window.create('c', { logLevel: 'error', auth: { strategy: 'custom', clientId: 'contended', keys: window.store, creds: window.store.creds } }); await window.clients.c.connect(); });
  assert.equal(start.ok, false, 'the loser must not run the session');
  assert.match(start.message, /session_locked|held by/);
  assert.ok(!(await events(loser, 'c')).includes('ready'));
  const info = await sessiond.api(sessiond.tokens.fleet, 'GET', 'contended');
  assert.equal(info.json.lease.holder, winnerName);
  assert.ok(info.json.creds && info.json.keys > 0, `the paired session is in the service: ${JSON.stringify(info.json)}`);
  await Promise.all([ctxA.close(), ctxB.close()]);
});

test('the holder is killed: another browser takes over once the lease expires, with no QR, nothing lost and no retry receipt', async () => {
  const phone = '15550001702';
  await fakewa.api('POST', '/api/accounts', { phone, pushName: 'Killed' });
  const killed = await launchPersistent();
  const a = await fleetPage(killed.ctx, 'killed', 'machine-a');
  await create(a, 'k', 'killed');
  const me = await pairByQR(fakewa, a, 'k', phone);
  const leaseA = await a.evaluate(() => window.store.lease);
  await fakewa.api('POST', `/api/accounts/${PEER}/send`, { to: phone, text: 'before the kill' });
  await waitMessage(a, 'k', (m) => m.text === 'before the kill');
  await a.evaluate((to) => window.clients.k.sendText(to, 'from a'), `${PEER}@s.whatsapp.net`);
  await fakewa.waitInbox(PEER, (m) => m.text === 'from a');

  await killed.kill();
  const killedAt = Date.now();
  for (const text of ['while dead 1', 'while dead 2']) await fakewa.api('POST', `/api/accounts/${PEER}/send`, { to: phone, text });

  const ctxB = await browser.newContext();
  const b = await fleetPage(ctxB, 'killed', 'machine-b');
  const early = await settle(b, () => window.store.acquire());
  assert.equal(early.code, 'session_locked', `the dead holder's lease is live for its TTL: ${JSON.stringify(early)}`);
  assert.equal(early.holder, 'machine-a');
  let lease;
  while (!lease) {
    const r = await settle(b, () => window.store.acquire());
    if (r.ok) lease = r.v;
    else await new Promise((res) => setTimeout(res, 200));
  }
  const waited = Date.now() - killedAt;
  assert.ok(waited <= TTL + 2000, `taken over ${waited} ms after the kill (TTL ${TTL})`);
  assert.equal(lease.fence, leaseA.fence + 1);
  await create(b, 'k', 'killed');
  await b.evaluate(() => window.clients.k.connect());
  await waitEvent(b, 'k', 'ready');
  assert.ok(!(await events(b, 'k')).includes('qr'), 'taken over with no QR');
  assert.equal(await b.evaluate(() => window.clients.k.getCreds().me), me);
  for (const text of ['while dead 1', 'while dead 2']) await waitMessage(b, 'k', (m) => m.text === text);
  await b.evaluate((to) => window.clients.k.sendText(to, 'from b'), `${PEER}@s.whatsapp.net`);
  await fakewa.waitInbox(PEER, (m) => m.text === 'from b');
  assert.deepEqual(decryptFailures(fakewa), [], 'no retry receipt, no decryption failure');
  console.log(`takeover after a kill: lease acquired ${waited} ms after the kill (TTL ${TTL} ms)`);
  await ctxB.close();
  await killed.close();
});

test('a stale holder\'s writes are refused once another took the session over', async () => {
  const phone = '15550001703';
  await fakewa.api('POST', '/api/accounts', { phone, pushName: 'Stale' });
  const [ctxA, ctxB] = await Promise.all([browser.newContext(), browser.newContext()]);
  const a = await fleetPage(ctxA, 'stale', 'machine-a');
  await create(a, 's', 'stale');
  await pairByQR(fakewa, a, 's', phone);
  const before = await sessiond.api(sessiond.tokens.fleet, 'POST', 'stale/keys/get', { type: 'device', ids: ['x'] });
  assert.equal(before.status, 200);
  // B takes the session over explicitly while A still runs.
  const b = await fleetPage(ctxB, 'stale', 'machine-b', { options: { takeover: true } });
  const lb = await b.evaluate(() => window.store.acquire());
  const wrote = await settle(a, () => window.store.set({ probe: { x: new Uint8Array([1, 2, 3]) } }));
  assert.equal(wrote.ok, false);
  assert.equal(wrote.code, 'lease_lost');
  assert.equal(wrote.holder, 'machine-b');
  assert.deepEqual(await a.evaluate(() => window.lost), [{ code: 'lease_lost', holder: 'machine-b' }]);
  const probe = await sessiond.api(sessiond.tokens.fleet, 'POST', 'stale/keys/get', { type: 'probe', ids: ['x'] });
  assert.deepEqual(probe.json.values, {}, 'the stale write did not land');
  // Later writes fail at once, without reaching the service.
  const again = await settle(a, () => window.store.clear());
  assert.equal(again.code, 'lease_lost');
  assert.ok((await sessiond.api(sessiond.tokens.fleet, 'GET', 'stale')).json.keys > 0, 'the stale clear did not land');
  // The client on A: a message makes it write; the write is refused, so its ack is held (write barrier) and B gets it.
  await fakewa.api('POST', `/api/accounts/${PEER}/send`, { to: phone, text: 'after the takeover' });
  await a.waitForFunction(() => (window.events.s || []).some((e) => e.name === 'error' || e.name === 'disconnected'), null, { timeout: 20000 });
  assert.ok(!(await a.evaluate(() => (window.events.s || []).some((e) => e.name === 'message' && e.payload.text === 'after the takeover'))), 'A showed a message it could not store');
  // destroy flushes: what is left to write is refused too, and it says so.
  const destroyed = await settle(a, () => window.clients.s.destroy());
  assert.ok(destroyed.ok || /lease of session "stale" under fence 1 is gone/.test(destroyed.message), JSON.stringify(destroyed));
  await create(b, 's', 'stale');
  await b.evaluate(() => window.clients.s.connect());
  await waitEvent(b, 's', 'ready');
  await waitMessage(b, 's', (m) => m.text === 'after the takeover');
  assert.ok(!(await events(b, 's')).includes('qr'));
  assert.equal((await b.evaluate(() => window.store.lease)).fence, lb.fence);
  await Promise.all([ctxA.close(), ctxB.close()]);
});
