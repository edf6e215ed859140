// wasmeow against a double that behaves like today's WhatsApp service
// (issue 11, docs/SERVICE.md): a minimum client version answered with 405,
// the relay's GET /version, QR codes in the wa.me form, LID addressing,
// privacy tokens with ack error 463, and the older phone-number addressing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import {
  startStatic, startFakewa, startRelay, launchBrowser, openPage, pageOptions, waitEvent, eventCount, waitMessage,
} from '../test-support/e2e.js';

const OLD_VERSION = '2.3000.1031080782'; // the pinned whatsmeow's, refused today
const ME = '15550011001'; // the browser's account
const PEER = '15550011002'; // writes first
const PEER_LATER = '15550011003'; // the browser writes first
const PEER_SILENT = '15550011004'; // issues a token the browser never hears of
const PN_ME = '15550011005'; // the browser's account on the old, phone-number service
const PN_PEER = '15550011006';
const RELAY_ME = '15550011007'; // paired through a relay

let server, fakewa, browser, page; // page: ME's client "me", paired in the first test
const closers = [];

before(async () => {
  [server, fakewa, browser] = await Promise.all([startStatic(), startFakewa(), launchBrowser()]);
  for (const phone of [ME, PEER, PEER_LATER, PEER_SILENT, PN_ME, PN_PEER, RELAY_ME]) {
    await fakewa.api('POST', '/api/accounts', { phone, pushName: `user ${phone.slice(-2)}` });
  }
});

after(async () => {
  for (const c of closers.reverse()) await c().catch(() => {});
  await browser?.close();
  await fakewa?.close();
  await server?.close();
});

const options = (clientId, extra = {}) => ({
  auth: { strategy: 'local', clientId }, logLevel: 'error', ...extra,
});

// A page whose clients talk to fakewa, or as extra says (waVersion, a relay's socketURL).
async function newPage(extra = {}) {
  const ctx = await browser.newContext();
  closers.push(() => ctx.close());
  return openPage(ctx, server.url, pageOptions(fakewa, extra));
}

const versionNumbers = (v) => v.split('.').map(Number);
const notOlder = (a, b) => {
  const [x, y] = [versionNumbers(a), versionNumbers(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] > y[i];
  return true;
};

// The page connects; resolves with the event that ends the start: the
// first qr, or an auth_failure.
async function connectUntilQROrFailure(p, name, opts) {
  await p.evaluate(([n, o]) => window.create(n, o), [name, opts]);
  await p.evaluate((n) => window.clients[n].connect().catch(() => {}), name);
  const h = await p.waitForFunction((n) => (window.events[n] || []).find((e) => e.name === 'qr' || e.name === 'auth_failure') || null, name, { timeout: 30000 });
  return h.jsonValue();
}

async function expectOutdated(p, name, version) {
  const ev = await connectUntilQROrFailure(p, name, options(name));
  assert.equal(ev.name, 'auth_failure', `want auth_failure, got ${JSON.stringify(ev)}`);
  assert.equal(ev.payload.reason, 'client_outdated');
  assert.equal(ev.payload.version, version);
  assert.match(ev.payload.message, new RegExp(`${version.replaceAll('.', '\\.')}.*405|405.*${version.replaceAll('.', '\\.')}`));
  assert.match(ev.payload.message, /waVersion/, 'the message says how to set another version');
  // Refused is final: no QR code, no login, in the next moments either.
  await new Promise((r) => setTimeout(r, 1500));
  const names = await p.evaluate((n) => window.events[n].map((e) => e.name), name);
  assert.ok(!names.includes('qr') && !names.includes('ready') && !names.includes('reconnecting'), `events after the refusal: ${names}`);
  // And the client says it is disconnected, for this reason.
  assert.ok((await p.evaluate((n) => window.events[n], name)).some((e) => e.name === 'disconnected' && e.payload.reason === 'client_outdated'), `a disconnected event: ${names}`);
  assert.equal(await p.evaluate((n) => window.clients[n].state, name), 'disconnected');
}

// The unpaired socket's announced version, as fakewa saw it.
async function announcedByUnpaired() {
  const conns = await fakewa.api('GET', '/api/connections');
  return conns.filter((c) => c.state === 'unpaired').map((c) => c.version);
}

const QR_FORM = /^https:\/\/wa\.me\/settings\/linked_devices#[^,]+,[A-Za-z0-9+/]{43}=,[A-Za-z0-9+/]{43}=,[A-Za-z0-9+/]{43}=,(\d+)$/;

// Scans the client's QR with phone's account and waits for ready; returns the QR code.
async function pairByQR(p, name, phone) {
  const qr = await waitEvent(p, name, 'qr');
  const { device } = await fakewa.api('POST', `/api/accounts/${phone}/scan`, { qr: qr.payload.code });
  await waitEvent(p, name, 'ready');
  return { code: qr.payload.code, device };
}

async function account(phone) {
  return (await fakewa.api('GET', '/api/accounts')).find((a) => a.phone === phone);
}

test('(a, c) an old version is refused with client_outdated; the default pairs by a QR code in the wa.me form with client type 1', async () => {
  const old = await newPage({ waVersion: OLD_VERSION });
  assert.equal(await old.evaluate(() => window.wm.getWAVersion()), OLD_VERSION);
  await expectOutdated(old, 'old', OLD_VERSION);

  page = await newPage();
  const version = await page.evaluate(() => window.wm.getWAVersion());
  assert.match(version, /^2\.3000\.\d+$/);
  const { minVersion } = await fakewa.api('GET', '/api/settings');
  assert.ok(notOlder(version, minVersion), `default ${version} is older than the service's minimum ${minVersion}`);
  const first = await connectUntilQROrFailure(page, 'me', options('me', { deviceName: 'today test' }));
  assert.equal(first.name, 'qr', JSON.stringify(first.payload));
  assert.deepEqual(await announcedByUnpaired(), [version], 'the socket announces what getWAVersion reports');

  const m = QR_FORM.exec(first.payload.code);
  assert.ok(m, `QR code in today's form: ${first.payload.code}`);
  assert.equal(m[1], '1', 'client type 1 (Chrome) in headless Chromium');
  const { device } = await pairByQR(page, 'me', ME);
  const dev = (await account(ME)).devices.find((d) => d.jid === device);
  assert.equal(dev.clientType, 1, 'the phone scanned client type 1');
  assert.equal(dev.platformType, 'CHROME', 'device props agree with the QR');
  assert.equal(dev.platform, 'today test', 'the device props carry the deviceName');
});

test('(b) a relay serving GET /version: the page announces its version; a refused one is client_outdated', async () => {
  // A stand-in for web.whatsapp.com's page, which the relay reads the current revision from.
  const served = '2.3000.1044000001';
  const mirror = createServer((req, res) => res.end(`<script>{"client_revision":${served.split('.')[2]},"x":1}</script>`));
  await new Promise((r) => mirror.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => mirror.close(r)));
  const relayArgs = (versionURL) => ['-upstream', fakewa.wsURL, '-allow-origin', '127.0.0.1:*', '-wa-version-url', versionURL, '-wa-version', OLD_VERSION];
  const relay = await startRelay(relayArgs(`http://127.0.0.1:${mirror.address().port}/`));
  closers.push(relay.close);
  const answer = await (await fetch(relay.versionURL)).json();
  assert.equal(answer.version, served);
  assert.equal(answer.source, 'service');

  const p = await newPage({ socketURL: relay.socketURL });
  const first = await connectUntilQROrFailure(p, 'relayed', options('relayed'));
  assert.equal(first.name, 'qr', JSON.stringify(first.payload));
  assert.equal(await p.evaluate(() => window.wm.getWAVersion()), served);
  assert.deepEqual(await announcedByUnpaired(), [served]);
  await pairByQR(p, 'relayed', RELAY_ME);

  // A relay that cannot read the service serves its -wa-version: refused by today's minimum.
  const stale = await startRelay(relayArgs('http://127.0.0.1:1/'));
  closers.push(stale.close);
  assert.deepEqual(await (await fetch(stale.versionURL)).json().then((j) => [j.version, j.source]), [OLD_VERSION, 'flag']);
  const q = await newPage({ socketURL: stale.socketURL });
  const ev = await connectUntilQROrFailure(q, 'stale', options('stale'));
  assert.equal(ev.name, 'auth_failure', JSON.stringify(ev));
  assert.equal(ev.payload.reason, 'client_outdated');
  assert.equal(ev.payload.version, OLD_VERSION);
  // The page's own version wins over the relay's.
  const own = await newPage({ waVersion: served, socketURL: stale.socketURL });
  const ok = await connectUntilQROrFailure(own, 'own', options('own'));
  assert.equal(ok.name, 'qr', JSON.stringify(ok.payload));
  assert.equal(await own.evaluate(() => window.wm.getWAVersion()), served);
});

test('(d) LID addressing: a peer\'s message names both forms; sendText to @lid and @c.us both land', async () => {
  const peer = await account(PEER);
  assert.match(peer.lid, /@lid$/);
  const from = await eventCount(page, 'me');
  const { id } = await fakewa.api('POST', `/api/accounts/${PEER}/send`, { to: ME, text: 'hello by lid' });
  const msg = await waitMessage(page, 'me', (m) => m.text === 'hello by lid', { from });
  assert.equal(msg.id, id);
  assert.equal(msg.addressingMode, 'lid');
  assert.equal(msg.sender, `${PEER}@s.whatsapp.net`);
  assert.equal(msg.senderAlt, peer.lid);
  assert.equal(msg.chat, `${PEER}@s.whatsapp.net`);
  assert.equal(msg.chatAlt, peer.lid);
  assert.equal(msg.fromMe, false);

  for (const [to, text] of [[peer.lid, 'to the lid'], [`${PEER}@c.us`, 'to the c.us form']]) {
    const sent = await page.evaluate(([t, x]) => window.clients.me.sendText(t, x), [to, text]);
    const got = await fakewa.waitInbox(PEER, (m) => m.text === text);
    assert.equal(got.id, sent, `${to}: the message the peer got`);
  }
});

const sendFrom = (p, client, to, text) => p.evaluate(([c, t, x]) => window.clients[c].sendText(t, x).then(
  (id) => ({ id }), (e) => ({ code: e.code, message: e.message })), [client, to, text]);

// A conversation of peer with client (account me) on page p, both ways; every send must go through.
async function converse(p, client, me, peer, peerFirst) {
  const texts = [];
  const peerSays = async (text) => {
    const from = await eventCount(p, client);
    await fakewa.api('POST', `/api/accounts/${peer}/send`, { to: me, text });
    return waitMessage(p, client, (m) => m.text === text, { from });
  };
  const browserSays = async (text) => {
    const r = await sendFrom(p, client, peer, text);
    assert.ok(r.id, `sendText to ${peer} (${text}): ${r.code} ${r.message}`);
    assert.equal((await fakewa.waitInbox(peer, (m) => m.text === text)).id, r.id);
    texts.push(text);
  };
  if (peerFirst) await peerSays(`${peer} opens`);
  await browserSays(`reply 1 to ${peer}`);
  await peerSays(`${peer} answers`);
  await browserSays(`reply 2 to ${peer}`);
  return texts;
}

test('(e) privacy tokens: conversations never hit 463; a missing token rejects sendText with send_failed naming 463', async () => {
  await converse(page, 'me', ME, PEER, true);
  await converse(page, 'me', ME, PEER_LATER, false);
  // The browser issued its own token to each contact it wrote to.
  const { issued, held } = await fakewa.api('GET', `/api/accounts/${ME}/tokens`);
  for (const peer of [PEER, PEER_LATER]) {
    assert.ok(issued.some((t) => t.to === peer), `ME issued no token to ${peer}: ${JSON.stringify(issued)}`);
    assert.ok(held.some((t) => t.from === peer), `ME holds no token from ${peer}: ${JSON.stringify(held)}`);
  }

  // The peer issued a token the browser never heard of: the service refuses.
  await fakewa.api('POST', `/api/accounts/${PEER_SILENT}/tokens`, { to: ME, notify: false });
  const refused = await sendFrom(page, 'me', PEER_SILENT, 'lacking the token');
  assert.equal(refused.code, 'send_failed', JSON.stringify(refused));
  assert.match(refused.message, /463/);
  assert.match(refused.message, /privacy token/);
  // Once the peer writes, its token arrives and the reply goes through.
  await converse(page, 'me', ME, PEER_SILENT, true);
});

test('(f) with phone-number addressing (the older service) messages still work', async (t) => {
  await fakewa.api('POST', '/api/settings', { pnAddressing: true });
  closers.push(() => fakewa.api('POST', '/api/settings', { pnAddressing: false }));
  try {
    const p = await newPage();
    const first = await connectUntilQROrFailure(p, 'pn', options('pn'));
    assert.equal(first.name, 'qr', JSON.stringify(first.payload));
    await pairByQR(p, 'pn', PN_ME);
    const peer = await account(PN_PEER);
    const from = await eventCount(p, 'pn');
    await fakewa.api('POST', `/api/accounts/${PN_PEER}/send`, { to: PN_ME, text: 'hello by number' });
    const msg = await waitMessage(p, 'pn', (m) => m.text === 'hello by number', { from });
    t.diagnostic(`phone-number addressed: addressingMode ${msg.addressingMode}, senderAlt ${msg.senderAlt}, chatAlt ${msg.chatAlt}`);
    assert.notEqual(msg.addressingMode, 'lid');
    assert.equal(msg.sender, `${PN_PEER}@s.whatsapp.net`);
    assert.equal(msg.chat, `${PN_PEER}@s.whatsapp.net`);
    // The LID, when given, is the peer's (from sender_lid or the LID map).
    assert.ok(msg.senderAlt === null || msg.senderAlt === peer.lid, `senderAlt ${msg.senderAlt}`);
    assert.ok(msg.chatAlt === null || msg.chatAlt === peer.lid, `chatAlt ${msg.chatAlt}`);
    await converse(p, 'pn', PN_ME, PN_PEER, false);
    const r = await sendFrom(p, 'pn', `${PN_PEER}@c.us`, 'by c.us on the old service');
    assert.ok(r.id, r.message);
    await fakewa.waitInbox(PN_PEER, (m) => m.text === 'by c.us on the old service');
  } finally {
    await fakewa.api('POST', '/api/settings', { pnAddressing: false });
  }
});
