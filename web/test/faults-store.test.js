// Three fault paths end to end that were only unit-tested: a 10 MB sendText
// (refused before the socket, which stays up), a damaged Signal session
// record in IndexedDB (store_corrupt naming table and contact, then a retry
// receipt rebuilds the session and the message still arrives), and destroy()
// against a custom store that never settles (it settles, bounded by
// auth.storeTimeoutMs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStatic, startFakewa, launchBrowser, openPage, pageOptions, waitEvent, eventCount, events, pairByQR, decryptFailures } from '../test-support/e2e.js';

let server, fakewa, browser, page;
const NOA = '15550000061'; // the browser's accounts
const OLA = '15550000062';
const QUI = '15550000063';
const PIA = '15550000064'; // a peer's phone

before(async () => {
  [server, fakewa] = await Promise.all([startStatic(), startFakewa()]);
  browser = await launchBrowser();
  page = await openPage(await browser.newContext(), server.url, pageOptions(fakewa));
  for (const [phone, pushName] of [[NOA, 'Noa'], [OLA, 'Ola'], [QUI, 'Qui'], [PIA, 'Pia']]) {
    await fakewa.api('POST', '/api/accounts', { phone, pushName });
  }
});

after(async () => {
  await browser?.close();
  await fakewa?.close();
  await server?.close();
});

const common = () => ({ logLevel: 'error' });
const send = (name, to, text) => page.evaluate(([n, t, x]) => window.clients[n].sendText(t, x).then((id) => ({ id }), (e) => ({ code: e.code, message: e.message })), [name, to, text]);
const since = (name, from) => page.evaluate(([n, f]) => window.events[n].slice(f), [name, from]);

test('a 10 MB sendText rejects with message_too_large and the socket stays up', async () => {
  await page.evaluate(([o]) => window.create('noa', { ...o, auth: { strategy: 'none', clientId: 'noa' } }), [common()]);
  await pairByQR(fakewa, page, 'noa', NOA);
  const from = await eventCount(page, 'noa');
  const big = await page.evaluate((to) => window.clients.noa.sendText(to, 'x'.repeat(10 << 20)).then((id) => ({ id }), (e) => ({ code: e.code, message: e.message })), PIA);
  assert.equal(big.code, 'message_too_large', JSON.stringify(big).slice(0, 300));
  assert.match(big.message, /nothing was sent/);
  // The same socket carries on, both ways.
  const next = await send('noa', PIA, 'after the big one');
  assert.ok(next.id, JSON.stringify(next));
  assert.equal((await fakewa.waitInbox(PIA, (m) => m.text === 'after the big one')).id, next.id);
  await fakewa.api('POST', `/api/accounts/${PIA}/send`, { to: NOA, text: 'still hearing you' });
  await waitEvent(page, 'noa', 'message', { from });
  const names = (await since('noa', from)).map((e) => e.name);
  assert.ok(!names.includes('disconnected') && !names.includes('error') && !names.includes('reconnecting'), `no socket loss: ${names}`);
  assert.equal(await page.evaluate(() => window.clients.noa.state), 'ready');
  const inbox = await fakewa.api('GET', `/api/accounts/${PIA}/messages`);
  assert.ok(!inbox.some((m) => (m.text || '').length > 1000), 'the big text never reached the peer');
});

test('a damaged session record: store_corrupt naming table and contact, a retry receipt, and the message still arrives', async () => {
  const opts = { ...common(), auth: { strategy: 'local', clientId: 'ola' } };
  await page.evaluate((o) => window.create('ola', o), opts);
  const me = await pairByQR(fakewa, page, 'ola', OLA);
  await fakewa.api('POST', `/api/accounts/${PIA}/send`, { to: OLA, text: 'hi ola' });
  await waitEvent(page, 'ola', 'message');
  const sent = await send('ola', PIA, 'hi pia');
  assert.ok(sent.id, JSON.stringify(sent));
  await fakewa.waitInbox(PIA, (m) => m.text === 'hi pia');
  await page.evaluate(() => window.clients.ola.destroy());

  // Pia's records: her phone number or her LID in the key's last component.
  const pia = (await fakewa.api('GET', '/api/accounts')).find((a) => a.phone === PIA);
  const ids = [PIA, (pia.lid || '').split('@')[0]].filter(Boolean);
  const damaged = await page.evaluate(([db, ids]) => new Promise((resolve, reject) => {
    const r = indexedDB.open(db);
    r.onerror = () => reject(r.error);
    r.onsuccess = () => {
      const tx = r.result.transaction('session', 'readwrite');
      const st = tx.objectStore('session');
      const keys = [];
      st.openCursor().onsuccess = (e) => {
        const cur = e.target.result;
        if (!cur) return;
        // Keys are the UTF-8 bytes of our JID NUL the contact's address.
        const contact = new TextDecoder().decode(cur.key).split('\x00').pop();
        if (ids.some((id) => contact.startsWith(id))) {
          keys.push(contact);
          cur.update(new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01])); // garbage, not a record
        }
        cur.continue();
      };
      tx.oncomplete = () => { r.result.close(); resolve(keys); };
      tx.onerror = () => reject(tx.error);
    };
  }), [`wasmeow:ola`, ids]);
  assert.ok(damaged.length > 0, `found Pia's session records to damage (looked for ${ids})`);

  await page.evaluate(() => { window.events.ola = []; });
  await page.evaluate((o) => window.create('ola', o), opts);
  await page.evaluate(() => window.clients.ola.connect());
  await waitEvent(page, 'ola', 'ready');
  await fakewa.api('POST', `/api/accounts/${PIA}/send`, { to: OLA, text: 'after the damage' });
  const err = await waitEvent(page, 'ola', 'error');
  assert.equal(err.payload.code, 'store_corrupt', err.payload.message);
  assert.match(err.payload.message, /table session/);
  assert.ok(damaged.some((a) => err.payload.message.includes(a)), `names the contact (${damaged}): ${err.payload.message}`);
  // whatsmeow asked Pia's phone to resend, and the new session decrypts.
  const got = await page.waitForFunction(() => window.events.ola.find((e) => e.name === 'message' && e.payload.text === 'after the damage')?.payload, null, { timeout: 30000 });
  assert.equal((await got.jsonValue()).text, 'after the damage');
  const retried = decryptFailures(fakewa);
  assert.ok(retried.some((l) => /resent .* after a retry receipt/.test(l)), `the message came again after a retry receipt: ${retried}`);
  // Both ways work on the rebuilt session, and nothing else broke.
  const reply = await send('ola', PIA, 'rebuilt');
  assert.ok(reply.id, JSON.stringify(reply));
  await fakewa.waitInbox(PIA, (m) => m.text === 'rebuilt');
  assert.ok(!(await events(page, 'ola')).includes('disconnected'));
  assert.equal(await page.evaluate(() => window.clients.ola.getCreds().me), me);
  await page.evaluate(() => window.clients.ola.destroy());
  console.log(`damaged session records ${damaged.join(', ')}: ${err.payload.message}; fakewa: ${retried.join(' | ').replace(/\x1b\[[0-9;]*m/g, '')}`);
});

test('destroy() settles against a custom store whose methods never resolve', async () => {
  // A Map-backed store that works until window.hang is set; from then on
  // every call returns a promise that never settles.
  await page.evaluate(() => {
    const data = new Map();
    const never = () => new Promise(() => {});
    let creds = null;
    window.hang = false;
    const h = (fn) => (...a) => (window.hang ? never() : fn(...a));
    window.hangStore = {
      keys: {
        get: h(async (type, ids) => Object.fromEntries(ids.filter((id) => data.has(`${type}/${id}`)).map((id) => [id, data.get(`${type}/${id}`)]))),
        set: h(async (d) => { for (const t in d) for (const id in d[t]) { if (d[t][id] === null) data.delete(`${t}/${id}`); else data.set(`${t}/${id}`, d[t][id]); } }),
        clear: h(async () => data.clear()),
      },
      creds: { load: h(async () => creds), save: h(async (c) => { creds = c; }) },
    };
  });
  const TIMEOUT = 300;
  const opts = { ...common(), auth: { strategy: 'custom', clientId: 'qui', storeTimeoutMs: TIMEOUT } };
  const create = (name) => page.evaluate(([n, o]) => window.create(n, { ...o, auth: { ...o.auth, keys: window.hangStore.keys, creds: window.hangStore.creds } }), [name, opts]);
  // Settles: resolves, or rejects with a clear coded error, within a bound
  // far beyond a few store timeouts (a hang is what this catches).
  const settles = (name) => page.evaluate(([n]) => Promise.race([
    window.clients[n].destroy().then(() => ({ ok: true }), (e) => ({ ok: false, code: e.code, message: e.message })),
    new Promise((r) => setTimeout(() => r({ hung: true }), 20000)),
  ]), [name]);

  // Paired, then the store hangs mid-session (with messages flowing).
  await create('qui');
  await pairByQR(fakewa, page, 'qui', QUI);
  await page.evaluate(() => { window.hang = true; });
  await fakewa.api('POST', `/api/accounts/${PIA}/send`, { to: QUI, text: 'into a hung store' });
  const d1 = await settles('qui');
  assert.ok(!d1.hung, 'destroy() of a paired client over a hung store settled');
  if (!d1.ok) assert.ok(['store_failed', 'timeout'].includes(d1.code) && /storeTimeoutMs|settle/.test(d1.message), JSON.stringify(d1));

  // A fresh session: load answers, every later call hangs (while a QR shows).
  await page.evaluate(() => { window.hang = false; });
  await page.evaluate(() => window.hangStore.creds.save(null));
  await create('qui2');
  await page.evaluate(() => { window.hang = true; });
  await page.evaluate(() => window.clients.qui2.connect()).catch(() => {});
  const d2 = await settles('qui2');
  assert.ok(!d2.hung, 'destroy() of an unpaired client over a hung store settled');
  if (!d2.ok) assert.ok(['store_failed', 'timeout'].includes(d2.code), JSON.stringify(d2));

  // The program is alive: a new client works.
  await page.evaluate((o) => window.create('after', { ...o, auth: { strategy: 'none', clientId: 'after' } }), common());
  assert.equal(await page.evaluate(() => window.clients.after.state), 'idle');
  console.log(`destroy over a hung store: paired ${JSON.stringify(d1).slice(0, 200)}, unpaired ${JSON.stringify(d2).slice(0, 200)}`);
});
