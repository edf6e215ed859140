// The page's hot calls go through wasmeow.js's fastCalls helper: every
// IndexedDB put, delete and get of a commit or a read is issued by idbCommit
// or idbGet (one call from wasm per batch, not one per record), and every
// binary frame by wsSend, as a view of the wasm memory (no copy on the Go
// side). And an op failing in the middle of a batch still fails the commit
// with the browser's error naming that op's table and key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStatic, startFakewa, launchBrowser, openPage, pageOptions, waitEvent, eventCount, pairByQR } from '../test-support/e2e.js';

let server, fakewa, browser, page;
const ADA = '15550000071'; // the browser's account
const BEA = '15550000072'; // a peer's phone

// Installed before wasmeow.js loads: records, for each IndexedDB request and
// each WebSocket.send, the function that called it (from the stack), and
// can turn the next put on one object store into an add of an existing key,
// which fails as a request (ConstraintError) in the middle of its batch.
function spy() {
  const calls = window.fastCallsSpy = { idb: {}, send: [] };
  const caller = () => {
    const m = (new Error().stack || '').match(/at (?:\S+\.)?(idbCommit|idbGet|wsSend) \(/);
    return m ? m[1] : 'elsewhere';
  };
  // The schema's own reads and writes at open (the _meta store) are not batches.
  const count = (op, store) => {
    const c = caller();
    const k = c !== 'elsewhere' ? `${op} from ${c}` : store === '_meta' ? `${op} on _meta at open` : `${op} on ${store} from elsewhere`;
    calls.idb[k] = (calls.idb[k] || 0) + 1;
  };
  const proto = IDBObjectStore.prototype;
  for (const op of ['put', 'delete', 'get']) {
    const orig = proto[op];
    proto[op] = function (...args) {
      count(op, this.name);
      if (op === 'put' && window.failNextPutOn === this.name) {
        window.failNextPutOn = null;
        return this.add(...args);
      }
      return orig.apply(this, args);
    };
  }
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (typeof data !== 'string') {
      calls.send.push({ from: caller(), view: ArrayBuffer.isView(data), len: data.byteLength, bufferLen: data.buffer?.byteLength ?? 0 });
    }
    return send.call(this, data);
  };
}

before(async () => {
  [server, fakewa] = await Promise.all([startStatic(), startFakewa()]);
  browser = await launchBrowser();
  const context = await browser.newContext();
  await context.addInitScript(spy);
  page = await openPage(context, server.url, pageOptions(fakewa));
  for (const [phone, pushName] of [[ADA, 'Ada'], [BEA, 'Bea']]) {
    await fakewa.api('POST', '/api/accounts', { phone, pushName });
  }
});

after(async () => {
  await browser?.close();
  await fakewa?.close();
  await server?.close();
});

test('IndexedDB batches and frames go through the fast calls, and a failed op mid-batch is named', async () => {
  await page.evaluate((o) => window.create('ada', o), { logLevel: 'error', auth: { strategy: 'local', clientId: 'ada' } });
  await pairByQR(fakewa, page, 'ada', ADA);
  let from = await eventCount(page, 'ada');
  await fakewa.api('POST', `/api/accounts/${BEA}/send`, { to: ADA, text: 'hello ada' });
  await waitEvent(page, 'ada', 'message', { from });
  const id = await page.evaluate((to) => window.clients.ada.sendText(to, 'hello bea'), BEA);
  assert.equal((await fakewa.waitInbox(BEA, (m) => m.text === 'hello bea')).id, id);

  const spied = await page.evaluate(() => window.fastCallsSpy);
  const idb = spied.idb;
  assert.ok(idb['put from idbCommit'] > 10, `puts through idbCommit: ${JSON.stringify(idb)}`);
  assert.ok(idb['get from idbGet'] > 0, `gets through idbGet: ${JSON.stringify(idb)}`);
  assert.deepEqual(Object.keys(idb).filter((k) => k.endsWith('from elsewhere')), [], `every put, delete and get of a table comes from the helper: ${JSON.stringify(idb)}`);
  assert.ok(spied.send.length > 5, `binary frames sent: ${spied.send.length}`);
  for (const s of spied.send) {
    // Sent by the helper from the wasm memory as a private copy of the frame
    // (one native copy: never the whole linear memory, whatever send does).
    assert.ok(s.from === 'wsSend' && s.view && s.len > 0 && s.bufferLen === s.len, `a frame not sent by wsSend as its own bytes: ${JSON.stringify(s)}`);
  }

  // The next session update fails as a request in the middle of the commit
  // of a received message: the page hears of it, naming table and key.
  from = await eventCount(page, 'ada');
  await page.evaluate(() => { window.failNextPutOn = 'session'; });
  await fakewa.api('POST', `/api/accounts/${BEA}/send`, { to: ADA, text: 'this one fails to store' });
  const err = await waitEvent(page, 'ada', 'error', { from });
  assert.equal(err.payload.code, 'store_failed', JSON.stringify(err));
  assert.match(err.payload.message, /failed at table "session" key "[^"]+": ConstraintError/, err.payload.message);
  const evs = (await page.evaluate(() => window.events.ada)).slice(from);
  assert.ok(!evs.some((e) => e.name === 'message' && e.payload?.text === 'this one fails to store'), 'a message whose commit failed was not given to the page');
});
