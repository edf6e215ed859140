// Sessions for a fleet (issue 17): pages on different browsers keep a
// session on the session service (cmd/wasmeow-sessiond on a throwaway
// PostgreSQL) through httpKeyStore, with a lease so that it runs in one
// place at a time. Short lease TTLs keep it quick.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStatic, startFakewa, launchBrowser, launchPersistent, openPage, pageOptions, waitEvent, events, pairByQR, waitMessage, decryptFailures, waitQueuesEmpty, repoDir } from '../test-support/e2e.js';
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
  }, [sessiond.url, sessiond.tokens[extra.tenant ?? 'fleet'], session, holder, extra.ttl ?? TTL, extra.options ?? {}]);
  return page;
}

const create = (page, name, session) => page.evaluate(([n, s]) => window.create(n, { logLevel: 'error', auth: { strategy: 'custom', clientId: s, keys: window.store, creds: window.store.creds } }), [name, session]);
// Settles a page promise as {ok} or {code, message, holder}.
const settle = (page, fn, arg) => page.evaluate(([f, a]) => (0, eval)(f)(a).then((v) => ({ ok: true, v }), (e) => ({ ok: false, code: e.code, message: e.message, holder: e.holder })), [fn.toString(), arg]);

test('two browsers contend for one session: exactly one gets the lease and runs it, the other is told who holds it', async () => {
  const phone = '15550001701';
  await fakewa.api('POST', '/api/accounts', { phone, pushName: 'Contended' });
  const [ctxA, ctxB] = await Promise.all([browser.newContext(), browser.newContext()]);
  // A TTL well above the longest stall of a page's main thread (the wasm runs there: pairing on a
  // loaded machine stalled it past 3 s once, the lease lapsed and the other page took it, its writes fenced).
  const ttl = 20000;
  const [a, b] = await Promise.all([fleetPage(ctxA, 'contended', 'machine-a', { ttl }), fleetPage(ctxB, 'contended', 'machine-b', { ttl })]);
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
  const ttl = 6000; // the dead holder's lease is live for at least 2/3 of it after the kill
  const killed = await launchPersistent();
  const a = await fleetPage(killed.ctx, 'killed', 'machine-a', { ttl });
  await create(a, 'k', 'killed');
  const me = await pairByQR(fakewa, a, 'k', phone);
  const leaseA = await a.evaluate(() => window.store.lease);
  await fakewa.api('POST', `/api/accounts/${PEER}/send`, { to: phone, text: 'before the kill' });
  await waitMessage(a, 'k', (m) => m.text === 'before the kill');
  await a.evaluate((to) => window.clients.k.sendText(to, 'from a'), `${PEER}@s.whatsapp.net`);
  await fakewa.waitInbox(PEER, (m) => m.text === 'from a');
  const ctxB = await browser.newContext();
  const b = await fleetPage(ctxB, 'killed', 'machine-b', { ttl });

  const killedAt = Date.now();
  await killed.kill();
  const early = await settle(b, () => window.store.acquire());
  if (Date.now() - killedAt < (ttl * 2) / 3) {
    assert.equal(early.code, 'session_locked', `the dead holder's lease is live for its TTL: ${JSON.stringify(early)}`);
    assert.equal(early.holder, 'machine-a');
  } else {
    console.log(`the kill took ${Date.now() - killedAt} ms: too slow to see the dead holder's lease still live`);
  }
  for (const text of ['while dead 1', 'while dead 2']) await fakewa.api('POST', `/api/accounts/${PEER}/send`, { to: phone, text });
  let lease = early.ok ? early.v : null;
  while (!lease) {
    const r = await settle(b, () => window.store.acquire());
    if (r.ok) lease = r.v;
    else await new Promise((res) => setTimeout(res, 200));
  }
  const waited = Date.now() - killedAt;
  assert.ok(waited <= ttl + 5000, `taken over ${waited} ms after the kill (TTL ${ttl})`);
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
  console.log(`takeover after a kill: lease acquired ${waited} ms after the kill (TTL ${ttl} ms)`);
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

// A native whatsmeow takes over a session the page created, of either strategy: the remote
// strategy's saved snapshot converts as it is; the custom strategy's key store (Baileys' shapes
// around whatsmeow's own Signal records) is read back record by record (sessionconv.KeyStoreToSnapshot).
async function nativeTakeover(strategy, phone, db) {
  await fakewa.api('POST', '/api/accounts', { phone, pushName: 'Native' });
  const ctx = await browser.newContext();
  let page;
  if (strategy === 'remote') {
    page = await openPage(ctx, server.url, pageOptions(fakewa));
    await page.evaluate(async ([url, token, ttl, session]) => {
      const m = await import('/wasmeow.js');
      window.store = m.httpRemoteStore({ url, token, holder: 'machine-a', leaseTtlMs: ttl });
      await window.create('n', { logLevel: 'error', auth: { strategy: 'remote', clientId: session, store: window.store, backupSyncIntervalMs: 60000 } });
    }, [sessiond.url, sessiond.tokens.fleet, TTL, db]);
  } else {
    page = await fleetPage(ctx, db, 'machine-a');
    await create(page, 'n', db);
  }
  const me = await pairByQR(fakewa, page, 'n', phone);
  await fakewa.api('POST', `/api/accounts/${PEER}/send`, { to: phone, text: 'to the page' });
  await waitMessage(page, 'n', (m) => m.text === 'to the page');
  // The page's ack has reached the server (as before any move, docs/AUTHSTATE.md): else the server
  // sends the text again to the native client, whose Signal session is already past it.
  assert.deepEqual(await waitQueuesEmpty(fakewa, [me]), {});
  if (strategy === 'remote') {
    // A snapshot saved after the text was shown (saves are debounced 2 s), then the page lets go.
    const shown = await page.evaluate(() => window.events.n.findIndex((e) => e.name === 'message' && e.payload.text === 'to the page'));
    await waitEvent(page, 'n', 'remote_session_saved', { from: shown, timeout: 20000 });
  }
  await page.evaluate(async (s) => { await window.clients.n.disconnect(); await window.clients.n.destroy(); await window.store.release(s); }, db);
  await ctx.close();

  // whatsmeow's sqlstore on PostgreSQL (pgx driver), in a database of its own on the same server.
  sessiond.sql(`CREATE DATABASE ${db}`);
  const target = sessiond.dsn.replace('dbname=postgres', `dbname=${db}`);
  assert.match(sessiond.run('export', '-tenant', 'fleet', '-session', db, '-postgres', target, '-delete'), new RegExp(`device ${me.replace(/[.]/g, '\\.')} written`));
  const gone = (await sessiond.api(sessiond.tokens.fleet, 'GET', db)).json;
  assert.ok(!gone.snapshot && !gone.creds && gone.keys === 0, `exported with -delete: no page can run it again: ${JSON.stringify(gone)}`);
  const dir = mkdtempSync(join(tmpdir(), 'wasmeow-fleet-'));
  try {
    execFileSync('go', ['build', '-o', join(dir, 'sqliteclient'), './sessionconv/internal/sqliteclient'], { cwd: repoDir, stdio: 'inherit' });
    // An unmodified whatsmeow on that sqlstore: logs in with no QR, talks both ways, exits 1 on any retry receipt.
    const out = JSON.parse(execFileSync(join(dir, 'sqliteclient'), ['-postgres', target, '-api', fakewa.baseURL, '-root', fakewa.rootKey, '-peer', PEER, '-round', db], { encoding: 'utf8' }));
    assert.equal(out.jid, me);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a native whatsmeow on sqlstore/PostgreSQL takes over a remote-strategy session the page created (export) and talks with no retry receipt', () => nativeTakeover('remote', '15550001704', 'native_remote'));
test('a native whatsmeow takes over a custom-strategy session (its Baileys-shaped key store) the page created, with no retry receipt', () => nativeTakeover('custom', '15550001708', 'native_custom'));

// The way back: a native whatsmeow's device (sqlstore on PostgreSQL) goes into the service as a
// remote-strategy snapshot (wasmeow-sessiond import -delete), and a fresh browser runs it.
test('the way back: a native whatsmeow\'s session goes into the service (import) and a fresh browser runs it with no QR and no retry receipt', async () => {
  const phone = '15550001712';
  const db = 'native_back';
  await fakewa.api('POST', '/api/accounts', { phone, pushName: 'Back' });
  sessiond.sql(`CREATE DATABASE ${db}`);
  const target = sessiond.dsn.replace('dbname=postgres', `dbname=${db}`);
  const dir = mkdtempSync(join(tmpdir(), 'wasmeow-fleet-'));
  let me;
  try {
    execFileSync('go', ['build', '-o', join(dir, 'sqliteclient'), './sessionconv/internal/sqliteclient'], { cwd: repoDir, stdio: 'inherit' });
    // Pairs, talks both ways, waits until the server holds nothing unacknowledged for it, disconnects.
    me = JSON.parse(execFileSync(join(dir, 'sqliteclient'), ['-postgres', target, '-api', fakewa.baseURL, '-root', fakewa.rootKey, '-pair', phone, '-peer', PEER, '-round', db], { encoding: 'utf8' })).jid;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // The e2e tenant cannot take it (its pages seal snapshots with keys the service never has).
  assert.throws(() => sessiond.run('import', '-tenant', 'sealed', '-session', db, '-postgres', target), /end-to-end encrypted/);
  assert.match(sessiond.run('import', '-tenant', 'fleet', '-session', db, '-postgres', target, '-delete'), new RegExp(`device ${me.replace(/[.]/g, '\\.')} imported[^]*deleted from the sqlstore`));
  const left = sessiond.sql('SELECT count(*) FROM whatsmeow_device', target);
  assert.equal(left, '0', 'with -delete no native client can run the device again');
  assert.throws(() => sessiond.run('import', '-tenant', 'fleet', '-session', db, '-postgres', target), /no such device|holds no/, 'nothing left to import twice');

  const ctx = await browser.newContext();
  const page = await openPage(ctx, server.url, pageOptions(fakewa));
  const created = await page.evaluate(async ([url, token, ttl, session]) => {
    const m = await import('/wasmeow.js');
    window.store = m.httpRemoteStore({ url, token, holder: 'machine-b', leaseTtlMs: ttl });
    return window.create('w', { logLevel: 'error', auth: { strategy: 'remote', clientId: session, store: window.store, backupSyncIntervalMs: 60000 } })
      .then(() => ({ ok: true }), (e) => ({ ok: false, code: e.code, message: e.message }));
  }, [sessiond.url, sessiond.tokens.fleet, TTL, db]);
  assert.ok(created.ok, JSON.stringify(created));
  await page.evaluate(() => window.clients.w.connect());
  await waitEvent(page, 'w', 'ready');
  assert.ok(!(await events(page, 'w')).includes('qr'), 'restored from the imported snapshot: no QR');
  assert.equal(await page.evaluate(() => window.clients.w.getCreds().me), me);
  await fakewa.api('POST', `/api/accounts/${PEER}/send`, { to: phone, text: 'after the way back' });
  await waitMessage(page, 'w', (m) => m.text === 'after the way back');
  await page.evaluate((to) => window.clients.w.sendText(to, 'from the page, after the way back'), `${PEER}@s.whatsapp.net`);
  await fakewa.waitInbox(PEER, (m) => m.text === 'from the page, after the way back');
  assert.deepEqual(decryptFailures(fakewa), [], 'no retry receipt, no decryption failure');
  await ctx.close();
});

test('end-to-end encrypted: the service holds ciphertext only, the passphrase restores the session elsewhere, a wrong one cannot', async () => {
  const phone = '15550001705';
  await fakewa.api('POST', '/api/accounts', { phone, pushName: 'Sealed' });
  const enc = (passphrase) => ({ tenant: 'sealed', options: { encryption: { passphrase } } });
  const ctxA = await browser.newContext();
  const a = await fleetPage(ctxA, 'sealed', 'machine-a', enc('correct horse battery staple'));
  await create(a, 'e', 'sealed');
  await pairByQR(fakewa, a, 'e', phone);
  await fakewa.api('POST', `/api/accounts/${PEER}/send`, { to: phone, text: 'sealed hello' });
  await waitMessage(a, 'e', (m) => m.text === 'sealed hello');
  await a.evaluate(async () => { await window.clients.e.destroy(); await window.store.release(); });
  await ctxA.close();

  const [keys, sealed] = sessiond.sql(`SELECT count(*), count(*) FILTER (WHERE substring(value FROM 1 FOR 4) = 'wmE1'::bytea) FROM sessiond_keys WHERE tenant = 'sealed'`).split('|').map(Number);
  assert.ok(keys > 50 && sealed === keys, `every value sealed: ${sealed} of ${keys}`);
  assert.equal(sessiond.sql(`SELECT count(*) FROM sessiond_creds WHERE tenant = 'sealed' AND substring(data FROM 1 FOR 4) = 'wmE1'::bytea`), '1');
  // Names are HMACs: no table name, phone number or JID in the clear.
  const clear = sessiond.sql(`SELECT count(*) FROM sessiond_keys WHERE tenant = 'sealed' AND (position('${phone}'::bytea IN id) > 0 OR position('${PEER}'::bytea IN id) > 0
    OR position('prekey'::bytea IN type) > 0 OR position('${phone}'::bytea IN value) > 0)`);
  assert.equal(clear, '0');

  const ctxB = await browser.newContext();
  const bad = await fleetPage(ctxB, 'sealed', 'machine-b', enc('wrong horse battery staple'));
  const refused = await settle(bad, async () => { await window.create('e', { logLevel: 'error', auth: { strategy: 'custom', clientId: 'sealed', keys: window.store, creds: window.store.creds } }); await window.clients.e.connect(); });
  assert.equal(refused.ok, false);
  assert.match(refused.message, /cannot be decrypted: a wrong key or passphrase/);
  await bad.evaluate(() => window.store.release());
  await bad.close();
  const b = await fleetPage(ctxB, 'sealed', 'machine-b', enc('correct horse battery staple'));
  await create(b, 'e', 'sealed');
  await b.evaluate(() => window.clients.e.connect());
  await waitEvent(b, 'e', 'ready');
  assert.ok(!(await events(b, 'e')).includes('qr'));
  await fakewa.api('POST', `/api/accounts/${PEER}/send`, { to: phone, text: 'sealed again' });
  await waitMessage(b, 'e', (m) => m.text === 'sealed again');
  assert.deepEqual(decryptFailures(fakewa), []);
  await ctxB.close();
});

test('the remote strategy keeps its snapshots on the service (sealed with a key), a second tab meets the Web Lock first, a fresh browser restores them', async () => {
  const phone = '15550001706';
  await fakewa.api('POST', '/api/accounts', { phone, pushName: 'Remote' });
  const key = [...Array(32).keys()];
  const remotePage = async (ctx, holder) => {
    const page = await openPage(ctx, server.url, pageOptions(fakewa));
    await page.evaluate(async ([url, token, holder, ttl, key]) => {
      const m = await import('/wasmeow.js');
      window.store = m.httpRemoteStore({ url, token, holder, leaseTtlMs: ttl, encryption: { key: new Uint8Array(key) } });
      window.created = window.create('r', { logLevel: 'error', auth: { strategy: 'remote', clientId: 'remote1', store: window.store, backupSyncIntervalMs: 60000 } })
        .then(() => ({ ok: true }), (e) => ({ ok: false, code: e.code, message: e.message }));
    }, [sessiond.url, sessiond.tokens.sealed, holder, TTL, key]);
    const created = await page.evaluate(() => window.created);
    return Object.assign(page, { created });
  };
  const ctxA = await browser.newContext();
  const a = await remotePage(ctxA, 'machine-a');
  assert.ok(a.created.ok, JSON.stringify(a.created));
  await pairByQR(fakewa, a, 'r', phone);
  const saved = await waitEvent(a, 'r', 'remote_session_saved', { timeout: 20000 });
  assert.equal(saved.payload.session, 'remote1');
  const info = (await sessiond.api(sessiond.tokens.sealed, 'GET', 'remote1')).json;
  assert.ok(info.snapshot && info.lease.holder === 'machine-a', JSON.stringify(info));
  assert.equal(sessiond.sql(`SELECT substring(data FROM 1 FOR 4) = 'wmE1'::bytea FROM sessiond_snapshots WHERE tenant = 'sealed' AND session = 'remote1'`), 't');
  // A second tab of the same browser: the Web Lock refuses it before it asks the service for anything.
  const tab2 = await remotePage(ctxA, 'machine-a/tab-2');
  assert.equal(tab2.created.code, 'session_locked');
  assert.match(tab2.created.message, /Web Lock/);
  assert.equal(await tab2.evaluate(() => window.store.lease('remote1')), null, 'the second tab never took the lease');
  assert.equal((await sessiond.api(sessiond.tokens.sealed, 'GET', 'remote1')).json.lease.holder, 'machine-a');
  await tab2.close();
  await a.evaluate(async () => { await window.clients.r.disconnect(); await window.clients.r.destroy(); await window.store.release('remote1'); });
  await ctxA.close();
  const ctxB = await browser.newContext();
  const b = await remotePage(ctxB, 'machine-b');
  assert.ok(b.created.ok, JSON.stringify(b.created));
  await b.evaluate(() => window.clients.r.connect());
  await waitEvent(b, 'r', 'ready');
  assert.ok(!(await events(b, 'r')).includes('qr'), 'restored from the service: no QR');
  assert.equal((await b.evaluate(() => window.store.lease('remote1'))).holder, 'machine-b');
  await ctxB.close();
});

test('the service restarted mid-traffic loses nothing: writes wait and retry, the session goes on elsewhere', async () => {
  const phone = '15550001707';
  await fakewa.api('POST', '/api/accounts', { phone, pushName: 'Restart' });
  const ctxA = await browser.newContext();
  const a = await fleetPage(ctxA, 'restart', 'machine-a');
  await a.evaluate(() => {
    // Records when each store call ran, to see that some waited through the restart.
    window.calls = [];
    for (const m of ['get', 'set']) {
      const f = window.store[m].bind(window.store);
      window.store[m] = async (...args) => { const from = Date.now(); try { return await f(...args); } finally { window.calls.push([m, from, Date.now()]); } };
    }
  });
  await create(a, 'x', 'restart');
  await pairByQR(fakewa, a, 'x', phone);
  const texts = [];
  const sending = (async () => {
    for (let i = 0; i < 10; i++) {
      const text = `through the restart ${i}`;
      await fakewa.api('POST', `/api/accounts/${PEER}/send`, { to: phone, text });
      texts.push(text);
      await new Promise((r) => setTimeout(r, 150));
    }
  })();
  await new Promise((r) => setTimeout(r, 400));
  const downAt = Date.now();
  await sessiond.restart({ hard: true, pauseMs: 1000 });
  const upAt = Date.now();
  await sending;
  for (const text of texts) await waitMessage(a, 'x', (m) => m.text === text);
  const waitedThrough = (await a.evaluate(() => window.calls)).filter(([, from, to]) => from < upAt && to > upAt && to > downAt + 1000);
  assert.ok(waitedThrough.length > 0, 'no store call was in flight while the service was down: the restart did not meet traffic');
  console.log(`service restarted mid-traffic: ${waitedThrough.length} store calls (${[...new Set(waitedThrough.map((c) => c[0]))]}) waited through ${upAt - downAt} ms of downtime`);
  const errors = await a.evaluate(() => window.events.x.filter((e) => e.name === 'error' || e.name === 'disconnected').map((e) => e.payload));
  assert.deepEqual(errors, [], 'no error: the writes waited for the service');
  await a.evaluate((to) => window.clients.x.sendText(to, 'after the restart'), `${PEER}@s.whatsapp.net`);
  await fakewa.waitInbox(PEER, (m) => m.text === 'after the restart');
  await a.evaluate(async () => { await window.clients.x.destroy(); await window.store.release(); });
  await ctxA.close();
  // Everything A wrote is in the database: another browser goes on with no QR and no retry.
  const ctxB = await browser.newContext();
  const b = await fleetPage(ctxB, 'restart', 'machine-b');
  await create(b, 'x', 'restart');
  await b.evaluate(() => window.clients.x.connect());
  await waitEvent(b, 'x', 'ready');
  assert.ok(!(await events(b, 'x')).includes('qr'));
  await fakewa.api('POST', `/api/accounts/${PEER}/send`, { to: phone, text: 'to b' });
  await waitMessage(b, 'x', (m) => m.text === 'to b');
  assert.deepEqual(decryptFailures(fakewa), []);
  await ctxB.close();
});
