// Everything over HTTP from a page (issue 12): after pairing, the contacts
// and push name from the app-state snapshot arrive, the phone's earlier
// conversations arrive as history_sync, a phone's image downloads and
// matches, and an image the page sends is decrypted by the phone to the
// same bytes. Each directly (fakewa answering the media proxy's URL shape
// with CORS, mediaCORS on) and through the relay (fakewa without CORS: the
// page's own fetch of a blob fails, the relay's /media/ serves it). A blob
// that fails gives sync_failed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { startStatic, startFakewa, startRelay, launchBrowser, openPage, pageOptions, waitEvent, pairByQR } from '../test-support/e2e.js';

let server, fakewa, browser;

before(async () => {
  [server, fakewa, browser] = await Promise.all([startStatic(), startFakewa(), launchBrowser()]);
});

after(async () => {
  await browser?.close();
  await fakewa?.close();
  await server?.close();
});

const sha256 = (b) => createHash('sha256').update(b).digest('hex');

// Waits for the first event `name` of client `c` (past `from`) that pred accepts.
async function waitFor(page, c, name, pred, timeout = 30000) {
  const h = await page.waitForFunction(([cl, n, p]) => {
    // eslint-disable-next-line no-new-func
    const f = new Function('e', `return (${p})(e)`);
    return (window.events[cl] || []).find((e) => e.name === n && f(e.payload)) || null;
  }, [c, name, pred.toString()], { timeout });
  return (await h.jsonValue()).payload;
}

/**
 * Pairs a new client of a new page with a new account that already talked
 * to a peer, then checks the sync events and media both ways.
 * @param {'direct' | 'relay'} mode
 * @param {object} loadOptions
 * @param {string} me @param {string} peer
 */
async function syncAndMedia(loadOptions, me, peer) {
  await fakewa.api('POST', '/api/accounts', { phone: me, pushName: 'Nora' });
  await fakewa.api('POST', '/api/accounts', { phone: peer, pushName: 'Otto' });
  await fakewa.api('POST', `/api/accounts/${peer}/send`, { to: me, text: 'before you paired' });
  await fakewa.waitInbox(me, (m) => m.text === 'before you paired');

  const ctx = await browser.newContext();
  try {
    const page = await openPage(ctx, server.url, loadOptions);
    await page.evaluate(() => window.create('c', { auth: { strategy: 'none' }, logLevel: 'error' }));
    await pairByQR(fakewa, page, 'c', me);

    const hist = await waitFor(page, 'c', 'history_sync', (h) => h.conversations.some((c) => c.messages.some((m) => m.text === 'before you paired')));
    const conv = hist.conversations.find((c) => c.messages.some((m) => m.text === 'before you paired'));
    const earlier = conv.messages.find((m) => m.text === 'before you paired');
    assert.ok(earlier.sender.startsWith(peer) || earlier.senderAlt?.startsWith(peer) || earlier.sender.endsWith('@lid'), JSON.stringify(earlier));
    assert.equal(earlier.fromMe, false);
    assert.ok(hist.progress > 0 && hist.progress <= 100, `progress ${hist.progress}`);
    const push = await waitFor(page, 'c', 'contacts.update', (u) => u.contacts.some((x) => x.pushName === 'Otto'));
    assert.ok(push.contacts.find((x) => x.pushName === 'Otto').jid.startsWith(peer));
    const book = await waitFor(page, 'c', 'contacts.update', (u) => u.contacts.some((x) => typeof x.fullName === 'string' && x.fullName.length > 0));
    assert.match(book.contacts[0].jid, /@/);
    await waitFor(page, 'c', 'creds.update', (u) => u.creds.pushName === 'Nora');

    // A phone's image: the descriptor, and the bytes downloadMedia gives.
    const img = randomBytes(60000);
    const { id } = await fakewa.api('POST', `/api/accounts/${peer}/send-media`,
      { to: me, type: 'image', data: img.toString('base64'), mimetype: 'image/jpeg', caption: 'look', width: 320, height: 200 });
    const msg = await waitFor(page, 'c', 'message', (m) => !!m.media);
    assert.equal(msg.id, id);
    assert.equal(msg.type, 'image');
    assert.deepEqual({ type: msg.media.type, mimetype: msg.media.mimetype, size: msg.media.size, caption: msg.media.caption, width: msg.media.width, height: msg.media.height },
      { type: 'image', mimetype: 'image/jpeg', size: img.length, caption: 'look', width: 320, height: 200 });
    const got = await page.evaluate(async (m) => {
      const bytes = await window.clients.c.downloadMedia(m);
      const hex = [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
      return { isBytes: bytes instanceof Uint8Array, hex };
    }, msg);
    assert.deepEqual(got, { isBytes: true, hex: sha256(img) });

    // The page sends an image (as a Blob): the phone decrypts the same bytes.
    const mine = randomBytes(50000);
    const sent = await page.evaluate(([to, b64]) => {
      const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
      return window.clients.c.sendMessage(to, { image: new Blob([bytes]), mimetype: 'image/png', caption: 'from the page' });
    }, [peer, mine.toString('base64')]);
    assert.equal(sent.fromMe, true);
    const sentID = sent.id;
    const received = await fakewa.waitInbox(peer, (m) => m.id === sentID && m.media);
    assert.equal(received.media.error ?? '', '', received.media.error);
    assert.equal(sha256(Buffer.from(received.media.data, 'base64')), sha256(mine));
    assert.equal(received.media.caption, 'from the page');
    assert.equal(received.media.mimetype, 'image/png');

    const errors = await page.evaluate(() => window.events.c.filter((e) => e.name === 'error').map((e) => e.payload));
    assert.deepEqual(errors, []);
    return page;
  } finally {
    await ctx.close();
  }
}

test('directly: fakewa answers /media/<host>/ with CORS', async () => {
  await fakewa.api('POST', '/api/settings', { mediaCORS: true });
  await syncAndMedia(pageOptions(fakewa), '15550014001', '15550014002');
});

test('through the relay: fakewa without CORS', async (t) => {
  await fakewa.api('POST', '/api/settings', { mediaCORS: false });
  const relay = await startRelay(['-upstream', fakewa.wsURL, '-allow-origin', '127.0.0.1:*', '-media-dial', new URL(fakewa.baseURL).host]);
  t.after(() => relay.close());
  // Without the relay, the page cannot read fakewa's blobs (no CORS).
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(server.url + '/');
  const direct = await page.evaluate((u) => fetch(u).then((r) => `status ${r.status}`, (e) => `failed: ${e}`), `${fakewa.baseURL}/media/mmg.whatsapp.net/v/t62.7118-24/none.enc`);
  await ctx.close();
  assert.match(direct, /^failed/);
  await syncAndMedia({ socketURL: relay.socketURL, trustRootKey: fakewa.rootKey }, '15550014003', '15550014004');
});

test('a history blob the media host lost gives sync_failed', async () => {
  await fakewa.api('POST', '/api/settings', { mediaCORS: true });
  await fakewa.api('POST', '/api/accounts', { phone: '15550014005', pushName: 'Pia' });
  await fakewa.api('POST', '/api/media/fail', { mmsType: 'md-msg-hist', mode: '404' });
  const ctx = await browser.newContext();
  try {
    const page = await openPage(ctx, server.url, pageOptions(fakewa));
    await page.evaluate(() => window.create('c', { auth: { strategy: 'none' }, logLevel: 'error' }));
    await pairByQR(fakewa, page, 'c', '15550014005');
    const err = await waitEvent(page, 'c', 'error');
    assert.equal(err.payload.code, 'sync_failed');
    // Asked for again from the phone, whose new copy is lost as well.
    assert.match(err.payload.message, /history sync .*404.*not retried.*lost again after the phone sent it again/);
  } finally {
    await fakewa.api('POST', '/api/media/fail', { mmsType: 'md-msg-hist', mode: '' });
    await ctx.close();
  }
});

test('a lost history blob is asked for again and arrives', async () => {
  await fakewa.api('POST', '/api/accounts', { phone: '15550014006', pushName: 'Rui' });
  await fakewa.api('POST', '/api/faults/lose-history-blob', { syncType: 'initial_bootstrap' });
  const ctx = await browser.newContext();
  try {
    const page = await openPage(ctx, server.url, pageOptions(fakewa));
    await page.evaluate(() => window.create('c', { auth: { strategy: 'none' }, logLevel: 'error' }));
    await pairByQR(fakewa, page, 'c', '15550014006');
    await waitFor(page, 'c', 'history_sync', (h) => h.syncType === 'initial_bootstrap');
    const blobs = await fakewa.api('GET', '/api/media');
    assert.ok(blobs.some((b) => b.mmsType === 'md-msg-hist' && b.fail === '404'), 'the first bootstrap blob was not lost');
    assert.deepEqual(await page.evaluate(() => window.events.c.filter((e) => e.name === 'error')), []);
  } finally {
    await ctx.close();
  }
});

test('an app-state change whose blob fails is synced again once it is served', async () => {
  await fakewa.api('POST', '/api/accounts', { phone: '15550014007', pushName: 'Sam' });
  const ctx = await browser.newContext();
  try {
    const page = await openPage(ctx, server.url, pageOptions(fakewa));
    await page.evaluate(() => window.create('c', { auth: { strategy: 'none' }, logLevel: 'error' }));
    await pairByQR(fakewa, page, 'c', '15550014007');
    await waitFor(page, 'c', 'contacts.update', (u) => u.contacts.some((x) => typeof x.fullName === 'string'));
    // Another device's change (a server_sync notice) whose mutations blob
    // is corrupt: whatsmeow only logs that; the client tries again.
    await fakewa.api('POST', '/api/media/fail', { mmsType: 'md-app-state', mode: 'corrupt' });
    const contacts = Array.from({ length: 30 }, (_, i) => ({ phone: `1555078${String(i).padStart(4, '0')}`, firstName: 'New', fullName: `New Contact ${i}` }));
    await fakewa.api('POST', '/api/accounts/15550014007/contacts', { contacts });
    await new Promise((r) => setTimeout(r, 700));
    await fakewa.api('POST', '/api/media/fail', { mmsType: 'md-app-state', mode: '' });
    await waitFor(page, 'c', 'contacts.update', (u) => u.contacts.some((x) => x.fullName?.startsWith('New Contact')));
    assert.deepEqual(await page.evaluate(() => window.events.c.filter((e) => e.name === 'error')), []);
  } finally {
    await fakewa.api('POST', '/api/media/fail', { mmsType: 'md-app-state', mode: '' });
    await ctx.close();
  }
});
