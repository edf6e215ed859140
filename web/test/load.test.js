// Loading, option validation, bad inputs and storage strategies: no server needed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStatic, launchBrowser, openPage } from '../test-support/e2e.js';

let server, browser, context, page;

before(async () => {
  server = await startStatic();
  browser = await launchBrowser();
  context = await browser.newContext();
  page = await openPage(context, server.url);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

// Runs fn in the page and returns {ok, value} or {ok: false, code, message}.
async function attempt(fn, arg) {
  return page.evaluate(async ([src, a]) => {
    try {
      // eslint-disable-next-line no-new-func
      const value = await (new Function('return ' + src))()(a);
      return { ok: true, value };
    } catch (e) {
      return { ok: false, code: e.code, message: e.message, name: e.name };
    }
  }, [fn.toString(), arg]);
}

test('loads beside its wasm and reports version and start time', async () => {
  const info = await page.evaluate(() => ({ version: window.wm.version, startMs: window.wm.startMs }));
  assert.match(info.version, /^\d+\.\d+\.\d+/);
  console.log(`wasm start (fetch + compile + Go init): ${info.startMs.toFixed(0)} ms`);
  const again = await page.evaluate(async () => (await import('/wasmeow.js')).loadWasmeow().then((m) => m === window.wm));
  assert.equal(again, true, 'a second loadWasmeow returns the same module');
});

test('wrong options are rejected naming the option', async () => {
  // Option objects are written as page-side source: some hold functions.
  const cases = [
    ['{ bogus: 1 }', /unknown option bogus/],
    ["{ auth: { strategy: 'cloud' } }", /auth\.strategy/],
    ["{ auth: { clientId: 'no spaces allowed' } }", /auth\.clientId/],
    ["{ auth: { strategy: 'local', clientID: 'x' } }", /unknown option auth\.clientID/],
    ["{ auth: { strategy: 'remote' } }", /auth\.store is required/],
    ["{ auth: { strategy: 'remote', store: {} } }", /auth\.store must have a sessionExists method/],
    ["{ auth: { strategy: 'custom', creds: {} } }", /auth\.keys is required/],
    ["{ auth: { strategy: 'custom', keys: { get() {} }, creds: { load() {}, save() {} } } }", /auth\.keys must be an object with get and set/],
    ["{ auth: { strategy: 'custom', keys: { get() {}, set() {}, clear() {} }, creds: { load() {} } } }", /auth\.creds must be an object with load and save/],
    ["{ auth: { strategy: 'custom', state: { creds: {}, keys: { get() {}, set() {} } } } }", /auth\.saveCreds is required/],
    ["{ auth: { strategy: 'custom', state: { creds: {} }, saveCreds() {} } }", /auth\.keys must be an object with get and set/],
    ["{ auth: { strategy: 'local', store: {} } }", /auth\.store does not apply/],
    ["{ auth: { strategy: 'local', backupSyncIntervalMs: 5000 } }", /backupSyncIntervalMs does not apply/],
    ["{ auth: { strategy: 'remote', backupSyncIntervalMs: 5, store: { sessionExists() {}, save() {}, extract() {}, delete() {} } } }", /backupSyncIntervalMs must be/],
    ["{ auth: { dbName: 'a:b' } }", /auth\.dbName/],
    ["{ socketURL: 'http://example.com' }", /socketURL/],
    ["{ trustRootKey: 'c2hvcnQ=' }", /trustRootKey/],
    ["{ logLevel: 'loud' }", /logLevel/],
    ['{ deviceName: 7 }', /deviceName must be a string/],
    ['{ qrMaxRetries: 1.5 }', /qrMaxRetries must be a whole number/],
    ['{ qrTimeoutMs: 10 }', /qrTimeoutMs must be a number of milliseconds from 200/],
    ["'a string'", /options must be an object/],
  ];
  for (const [src, re] of cases) {
    const r = await page.evaluate(async (s) => {
      try {
        await window.wm.createClient(new Function('return ' + s)());
        return { ok: true };
      } catch (e) {
        return { ok: false, code: e.code, message: e.message };
      }
    }, src);
    assert.equal(r.ok, false, `createClient(${src}) must fail`);
    assert.equal(r.code, 'invalid_option', `code for ${src}: ${r.message}`);
    assert.match(r.message, re);
  }
});

test('bad inputs to a client reject clearly and the program survives', async () => {
  await page.evaluate(() => window.create('mem', { auth: { strategy: 'none' } }));
  const pair = await attempt(() => window.clients.mem.requestPairingCode('12 34'));
  assert.equal(pair.code, 'invalid_phone');
  const pair2 = await attempt(() => window.clients.mem.requestPairingCode(5));
  assert.equal(pair2.code, 'invalid_phone');
  const send = await attempt(() => window.clients.mem.sendText('15551234567', 'hi'));
  assert.equal(send.code, 'not_logged_in');
  const logout = await attempt(() => window.clients.mem.logout());
  assert.equal(logout.code, 'not_logged_in');
  const ev = await attempt(() => window.clients.mem.on('nonsense', () => {}));
  assert.equal(ev.code, 'invalid_option');
  const listener = await attempt(() => window.clients.mem.on('qr', 'not a function'));
  assert.equal(listener.code, 'invalid_option');
  const creds = await page.evaluate(() => window.clients.mem.getCreds());
  assert.deepEqual(creds, { me: null, lid: null, platform: '', pushName: '', businessName: '', registered: false });
  assert.equal(await page.evaluate(() => window.clients.mem.state), 'idle');
});

test('calls after destroy fail clearly', async () => {
  await page.evaluate(() => window.create('doomed', { auth: { strategy: 'none', clientId: 'doomed' } }));
  await page.evaluate(() => window.clients.doomed.destroy());
  assert.equal(await page.evaluate(() => window.clients.doomed.state), 'destroyed');
  for (const call of [() => window.clients.doomed.connect(), () => window.clients.doomed.sendText('15551234567', 'x'), () => window.clients.doomed.getCreds()]) {
    const r = await attempt(call);
    assert.equal(r.ok, false);
    assert.equal(r.code, 'destroyed', r.message);
  }
  const again = await attempt(() => window.clients.doomed.destroy());
  assert.equal(again.ok, true, 'destroy is idempotent');
});

test('local strategy: one IndexedDB database per clientId, listed and deletable', async () => {
  await page.evaluate(() => window.create('l1', { auth: { strategy: 'local', clientId: 'alpha' } }));
  await page.evaluate(() => window.create('l2', { auth: { strategy: 'local', clientId: 'beta' } }));
  const dbs = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name).sort());
  assert.ok(dbs.includes('wasmeow:alpha') && dbs.includes('wasmeow:beta'), `databases: ${dbs}`);
  assert.deepEqual((await page.evaluate(() => window.wm.listSessions())).sort(), ['alpha', 'beta']);
  const twice = await attempt(() => window.wm.createClient({ auth: { strategy: 'local', clientId: 'alpha' } }));
  assert.equal(twice.code, 'session_in_use');
  const busy = await attempt(() => window.wm.deleteSession('alpha'));
  assert.equal(busy.code, 'session_in_use');
  await page.evaluate(() => window.clients.l1.destroy());
  await page.evaluate(() => window.wm.deleteSession('alpha'));
  assert.deepEqual(await page.evaluate(() => window.wm.listSessions()), ['beta']);
  await page.evaluate(() => window.clients.l2.destroy());
});

test('none strategy keeps nothing in IndexedDB', async () => {
  const before = await page.evaluate(async () => (await indexedDB.databases()).length);
  await page.evaluate(() => window.create('n1', { auth: { strategy: 'none', clientId: 'nothing' } }));
  const afterCount = await page.evaluate(async () => (await indexedDB.databases()).length);
  assert.equal(afterCount, before);
});

test('works in a Web Worker', async () => {
  const r = await page.evaluate(() => new Promise((resolve) => {
    const src = `import { loadWasmeow } from '${location.origin}/wasmeow.js';
      try {
        const m = await loadWasmeow();
        const c = await m.createClient({ auth: { strategy: 'none' } });
        postMessage({ ok: true, version: m.version, state: c.state });
      } catch (e) { postMessage({ ok: false, error: String(e) }); }`;
    const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })), { type: 'module' });
    w.onmessage = (e) => { resolve(e.data); w.terminate(); };
    w.onerror = (e) => { resolve({ ok: false, error: e.message }); w.terminate(); };
  }));
  assert.equal(r.ok, true, r.error);
  assert.equal(r.state, 'idle');
});

test('a Worker runs clients on a module the page compiled, and holds their sessions\' lock', async () => {
  // The README's pattern for many clients (Many clients in one page): the
  // page compiles once and posts the WebAssembly.Module to the Worker.
  const r = await page.evaluate(async () => {
    const module = await WebAssembly.compileStreaming(fetch('/wasmeow.wasm'));
    const src = `import { loadWasmeow } from '${location.origin}/wasmeow.js';
      self.onmessage = async ({ data: { module } }) => {
        try {
          const m = await loadWasmeow({ wasmURL: module });
          const c = await m.createClient({ auth: { strategy: 'local', clientId: 'in-a-worker' } });
          postMessage({ ok: true, state: c.state });
        } catch (e) { postMessage({ ok: false, error: String(e) }); }
      };`;
    const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })), { type: 'module' });
    const opened = await new Promise((resolve) => {
      w.onmessage = (e) => resolve(e.data);
      w.onerror = (e) => resolve({ ok: false, error: e.message });
      w.postMessage({ module });
    });
    const open = (id) => window.wm.createClient({ auth: { strategy: 'local', clientId: id } }).then((c) => c.destroy().then(() => 'opened'), (e) => e.code);
    const whileHeld = await open('in-a-worker');
    w.terminate(); // its Web Lock goes with it
    let afterwards;
    for (let i = 0; i < 50 && afterwards !== 'opened'; i++, await new Promise((t) => setTimeout(t, 100))) afterwards = await open('in-a-worker');
    await window.wm.deleteSession('in-a-worker');
    return { opened, whileHeld, afterwards };
  });
  assert.equal(r.opened.ok, true, r.opened.error);
  assert.equal(r.whileHeld, 'session_locked');
  assert.equal(r.afterwards, 'opened');
});
