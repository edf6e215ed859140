// Corrupted records in the browser's real IndexedDB: a damaged _meta record
// and a snapshot whose device record is garbage. Each must give a clear
// coded error naming the table, leave the Go program running and lose
// nothing else. (Every idbstore table's records: idbstore/corrupt_test.go.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStatic, launchBrowser, openPage } from '../test-support/e2e.js';

let server, browser, page;

before(async () => {
  server = await startStatic();
  browser = await launchBrowser();
  page = await openPage(await browser.newContext(), server.url);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const attempt = (src, arg) => page.evaluate(async ([s, a]) => {
  try { return { ok: true, value: await (new (Object.getPrototypeOf(async () => {}).constructor)('a', s))(a) }; } catch (e) { return { ok: false, code: e.code, message: e.message }; }
}, [src, arg]);

test('a corrupt _meta record fails createClient with store_corrupt naming the table', async () => {
  for (const bad of ['"garbage"', '-3', '1.5', '{}']) {
    const id = `meta${Math.abs(bad.length * 7)}${bad.replace(/\W/g, '')}`;
    const made = await attempt(`const c = await window.wm.createClient({ auth: { clientId: a } }); await c.destroy();`, id);
    assert.ok(made.ok, made.message);
    await page.evaluate(([name, v]) => new Promise((resolve, reject) => {
      const r = indexedDB.open(name);
      r.onsuccess = () => {
        const db = r.result;
        const tx = db.transaction('_meta', 'readwrite');
        tx.objectStore('_meta').put(JSON.parse(v), 'schemaVersion');
        tx.oncomplete = () => { db.close(); resolve(); };
        tx.onerror = () => reject(tx.error);
      };
      r.onerror = () => reject(r.error);
    }), [`wasmeow:${id}`, bad]);
    const r = await attempt('return window.wm.createClient({ auth: { clientId: a } });', id);
    assert.equal(r.ok, false);
    assert.equal(r.code, 'store_corrupt', `${bad}: ${r.message}`);
    assert.match(r.message, /_meta/);
    // The program is alive and the session can be deleted and made anew.
    await page.evaluate((c) => window.wm.deleteSession(c), id);
    const again = await attempt('const c = await window.wm.createClient({ auth: { clientId: a } }); await c.destroy(); return c.clientId;', id);
    assert.ok(again.ok, again.message);
  }
});

test('importSession refuses a snapshot with a garbage device record, and lists nothing', async () => {
  // A well-formed snapshot (docs/SNAPSHOT.md) whose one device record is garbage.
  const r = await page.evaluate(async () => {
    const json = JSON.stringify({ format: 'wasmeow-session', version: 1, clientId: 'x', savedAt: '2026-01-01T00:00:00Z',
      tables: { device: [[btoa('15550000001.0:1@s.whatsapp.net'), btoa('\x01garbage')]] } });
    const gz = new Response(new Blob([json]).stream().pipeThrough(new CompressionStream('gzip')));
    const bytes = new Uint8Array(await gz.arrayBuffer());
    const before = await window.wm.listSessions();
    try {
      await window.wm.importSession('imported', bytes);
      return { ok: true };
    } catch (e) {
      return { ok: false, code: e.code, message: e.message, before, after: await window.wm.listSessions() };
    }
  });
  assert.equal(r.ok, false, 'a garbage device record must be refused');
  assert.equal(r.code, 'restore_failed', r.message);
  assert.match(r.message, /device/);
  assert.ok(!r.after.includes('imported'), `listed after a refused import: ${r.after}`);
  assert.deepEqual(r.after, r.before);
});
