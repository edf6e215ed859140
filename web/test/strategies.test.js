// The custom and remote strategies against fakewa: a Map-backed Baileys-shaped
// store, and snapshots kept outside the browser restored in a fresh context.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { startStatic, startFakewa, launchBrowser, launchPersistent, openPage, pageOptions, waitEvent, events, eventCount } from '../test-support/e2e.js';

let server, fakewa, browser;

before(async () => {
  [server, fakewa] = await Promise.all([startStatic(), startFakewa()]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await fakewa?.close();
  await server?.close();
});

const DAVE = '15550000004';
const ERIN = '15550000005';

const common = () => ({ logLevel: 'error' });

async function pairByQR(page, name, phone) {
  const from = await eventCount(page, name);
  await page.evaluate((n) => window.clients[n].connect(), name);
  const qr = await waitEvent(page, name, 'qr', { from });
  await fakewa.api('POST', `/api/accounts/${phone}/scan`, { qr: qr.payload.code });
  await waitEvent(page, name, 'ready', { from });
}

test('custom strategy keeps keys and creds in a Map-backed store and logs in again from it', async () => {
  await fakewa.api('POST', '/api/accounts', { phone: DAVE, pushName: 'Dave' });
  const ctx = await browser.newContext();
  const page = await openPage(ctx, server.url, pageOptions(fakewa));
  await page.evaluate(() => {
    // A user's store: Maps, async, values kept as the objects given.
    const data = new Map();
    window.store = {
      data,
      creds: null,
      keys: {
        async get(type, ids) { const o = {}; for (const id of ids) { const v = data.get(`${type}/${id}`); if (v) o[id] = v; } return o; },
        async set(d) { for (const t in d) for (const id in d[t]) { if (d[t][id] === null) data.delete(`${t}/${id}`); else data.set(`${t}/${id}`, d[t][id]); } },
        async clear() { data.clear(); },
      },
    };
    window.store.credsStore = { load: async () => window.store.creds, save: async (c) => { window.store.creds = c; } };
  });
  const opts = common();
  const mk = (name) => page.evaluate(([n, o]) => window.create(n, { ...o, auth: { strategy: 'custom', clientId: 'dave', keys: window.store.keys, creds: window.store.credsStore } }), [name, opts]);
  await mk('dave');
  await pairByQR(page, 'dave', DAVE);
  const stored = await page.evaluate(() => ({
    types: [...new Set([...window.store.data.keys()].map((k) => k.split('/')[0]))].sort(),
    credsTables: Object.keys(window.store.creds || {}),
    dbs: null,
  }));
  // Baileys' types and creds (docs/AUTHSTATE.md; baileys-store.test.js for more).
  assert.ok(stored.types.includes('pre-key') && stored.types.includes('session') && stored.types.includes('wasmeow-ids'), `types: ${stored.types}`);
  assert.ok(['noiseKey', 'signedIdentityKey', 'signedPreKey', 'registrationId', 'advSecretKey', 'me', 'account', 'registered'].every((k) => stored.credsTables.includes(k)), `creds: ${stored.credsTables}`);
  assert.deepEqual(await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name)), [], 'nothing in IndexedDB');
  // A new client over the same objects (what a reload with a persistent store does).
  await page.evaluate(() => window.clients.dave.destroy());
  await mk('dave2');
  await page.evaluate(() => window.clients.dave2.connect());
  await waitEvent(page, 'dave2', 'ready');
  assert.ok(!(await events(page, 'dave2')).includes('qr'));
  // Logout empties the user's store.
  await page.evaluate(() => window.clients.dave2.logout());
  await waitEvent(page, 'dave2', 'logged_out');
  assert.equal(await page.evaluate(() => window.store.data.size), 0);
  assert.equal(await page.evaluate(() => window.store.creds), null);
  await ctx.close();
});

// The remote store lives in node: it outlives browser contexts, like a server would.
const remote = new Map();
const calls = [];
async function exposeRemote(page) {
  await page.exposeFunction('remoteOp', (op, session, b64) => {
    calls.push(op);
    switch (op) {
      case 'exists': return remote.has(session);
      case 'save': remote.set(session, Buffer.from(b64, 'base64')); return null;
      case 'extract': return remote.has(session) ? remote.get(session).toString('base64') : null;
      case 'delete': remote.delete(session); return null;
      default: throw new Error(op);
    }
  });
  await page.evaluate(() => {
    const b64 = (u8) => { let s = ''; for (const b of u8) s += String.fromCharCode(b); return btoa(s); };
    const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
    window.remoteStore = {
      sessionExists: ({ session }) => window.remoteOp('exists', session, ''),
      save: ({ session, data }) => window.remoteOp('save', session, b64(data)),
      extract: async ({ session }) => unb64(await window.remoteOp('extract', session, '')),
      delete: ({ session }) => window.remoteOp('delete', session, ''),
    };
  });
}

test('remote strategy saves a versioned snapshot and restores it in a fresh browser context', async () => {
  await fakewa.api('POST', '/api/accounts', { phone: ERIN, pushName: 'Erin' });
  const a = await launchPersistent();
  const pageA = await openPage(a.ctx, server.url, pageOptions(fakewa));
  await exposeRemote(pageA);
  const opts = common();
  const mk = (page, name) => page.evaluate(([n, o]) => window.create(n, { ...o, auth: { strategy: 'remote', clientId: 'erin', store: window.remoteStore, backupSyncIntervalMs: 60000 } }), [name, opts]);
  await mk(pageA, 'erin');
  await pairByQR(pageA, 'erin', ERIN);
  const saved = await waitEvent(pageA, 'erin', 'remote_session_saved', { timeout: 20000 });
  assert.equal(saved.payload.session, 'erin');
  assert.equal(saved.payload.version, 1);
  const snap = JSON.parse(gunzipSync(remote.get('erin')).toString());
  assert.equal(snap.format, 'wasmeow-session');
  assert.equal(snap.version, 1);
  assert.ok(snap.tables.device?.length === 1 && snap.tables.prekey?.length > 0, `tables: ${Object.keys(snap.tables)}`);
  // A disconnect keeps the remote copy.
  await pageA.evaluate(() => window.clients.erin.disconnect());
  await pageA.evaluate(() => window.clients.erin.destroy());
  assert.ok(remote.has('erin'), 'a disconnect must not delete the remote copy');
  await a.close();

  // A fresh browser context: no IndexedDB, the session comes from the remote store.
  const ctxB = await browser.newContext();
  const pageB = await openPage(ctxB, server.url, pageOptions(fakewa));
  await exposeRemote(pageB);
  await pageB.evaluate((o) => window.create('erin', { ...o, auth: { strategy: 'remote', clientId: 'erin', store: window.remoteStore, backupSyncIntervalMs: 1000 } }), opts);
  await pageB.evaluate(() => window.clients.erin.connect());
  const ready = await waitEvent(pageB, 'erin', 'ready');
  assert.ok(!(await events(pageB, 'erin')).includes('qr'), 'restored: no QR');
  assert.ok((await pageB.evaluate(() => window.clients.erin.getCreds().me)).startsWith(ERIN + ':'));
  console.log(`page load to ready with a session restored from the remote store (fresh context): ${ready.at.toFixed(0)} ms`);
  // backupSyncIntervalMs: saves keep coming on the interval.
  const n0 = await pageB.evaluate(() => window.events.erin.filter((e) => e.name === 'remote_session_saved').length);
  await pageB.waitForFunction((n) => window.events.erin.filter((e) => e.name === 'remote_session_saved').length >= n + 2, n0, { timeout: 10000 });
  // A confirmed logout deletes the remote copy too.
  await pageB.evaluate(() => window.clients.erin.logout());
  await waitEvent(pageB, 'erin', 'logged_out');
  assert.ok(!remote.has('erin'), 'logout deletes the remote copy');
  await ctxB.close();
});

test('a broken remote snapshot fails createClient and says why', async () => {
  remote.set('broken', Buffer.from('PK\x03\x04 this is a zip, not a snapshot'));
  const ctx = await browser.newContext();
  const page = await openPage(ctx, server.url, pageOptions(fakewa));
  await exposeRemote(page);
  const r = await page.evaluate(async (o) => window.wm.createClient({ ...o, auth: { strategy: 'remote', clientId: 'broken', store: window.remoteStore } })
    .then(() => ({ ok: true }), (e) => ({ code: e.code, message: e.message })), common());
  assert.equal(r.code, 'restore_failed');
  assert.match(r.message, /not gzip/);
  assert.ok(remote.has('broken'), 'a failed restore leaves the remote copy alone');
  await ctx.close();
});

test('exportSession moves a local session to a fresh browser, where importSession brings it back', async () => {
  const FAY = '15550000006';
  const GUS = '15550000007';
  await fakewa.api('POST', '/api/accounts', { phone: FAY, pushName: 'Fay' });
  await fakewa.api('POST', '/api/accounts', { phone: GUS, pushName: 'Gus' });
  const opts = common();
  const ctxA = await browser.newContext();
  const pageA = await openPage(ctxA, server.url, pageOptions(fakewa));
  await pageA.evaluate((o) => window.create('fay', { ...o, auth: { strategy: 'local', clientId: 'fay' } }), opts);
  const unpaired = await pageA.evaluate(() => window.clients.fay.exportSession().then(() => null, (e) => e.code));
  assert.equal(unpaired, 'not_logged_in', 'nothing to export before pairing');
  await pairByQR(pageA, 'fay', FAY);
  await fakewa.api('POST', `/api/accounts/${GUS}/send`, { to: FAY, text: 'hi before the move' });
  await pageA.waitForFunction(() => window.events.fay.some((e) => e.name === 'message' && e.payload.text === 'hi before the move'));
  // Exported bytes cross to node and back, as a file download would.
  const bytes = await pageA.evaluate(async () => Array.from(await window.clients.fay.exportSession()));
  const snap = JSON.parse(gunzipSync(Buffer.from(bytes)).toString());
  assert.equal(snap.format, 'wasmeow-session');
  assert.equal(snap.clientId, 'fay');
  assert.ok(snap.tables.device?.length === 1 && snap.tables.session?.length > 0, `tables: ${Object.keys(snap.tables)}`);
  await pageA.evaluate(() => window.clients.fay.destroy());
  await ctxA.close();

  const ctxB = await browser.newContext();
  const pageB = await openPage(ctxB, server.url, pageOptions(fakewa));
  const bad = await pageB.evaluate(() => window.wm.importSession('junk', new Uint8Array([1, 2, 3])).then(() => null, (e) => e.code));
  assert.equal(bad, 'restore_failed');
  assert.deepEqual(await pageB.evaluate(() => window.wm.listSessions()), [], 'a failed import leaves no database behind');
  await pageB.evaluate((b) => window.wm.importSession('moved', new Uint8Array(b)), bytes);
  const again = await pageB.evaluate((b) => window.wm.importSession('moved', new Uint8Array(b)).then(() => null, (e) => e.code), bytes);
  assert.equal(again, 'session_exists', 'an import never overwrites a session');
  assert.deepEqual(await pageB.evaluate(() => window.wm.listSessions()), ['moved']);
  await pageB.evaluate((o) => window.create('moved', { ...o, auth: { strategy: 'local', clientId: 'moved' } }), opts);
  await pageB.evaluate(() => window.clients.moved.connect());
  await waitEvent(pageB, 'moved', 'ready');
  assert.ok(!(await events(pageB, 'moved')).includes('qr'), 'imported: no QR');
  // The ratchets came along: both directions decrypt.
  await fakewa.api('POST', `/api/accounts/${GUS}/send`, { to: FAY, text: 'hi after the move' });
  await pageB.waitForFunction(() => window.events.moved.some((e) => e.name === 'message' && e.payload.text === 'hi after the move'));
  await pageB.evaluate((to) => window.clients.moved.sendText(to, 'fay moved'), GUS);
  await fakewa.waitInbox(GUS, (m) => m.text === 'fay moved');
  await ctxB.close();
});
