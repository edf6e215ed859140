// A Baileys device moves into a wasmeow page and back (docs/AUTHSTATE.md):
// Baileys from npm pairs with fakewa and talks with a phone; its
// useMultiFileAuthState folder is imported into a page
// (wm.importBaileysSession), which goes on talking with no QR; the page's
// session is exported as a Baileys folder (client.exportBaileysSession),
// which Baileys opens and goes on with, no QR; 1:1 and in a group at each
// stop, with an app-state patch applied at each. The sessions, sender keys
// and app-state hashes and MACs crossed
// libsignal-node's and whatsmeow's record formats: the phone never needed
// to ask again (fakewa logs every retry receipt a phone sends or answers).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStatic, startFakewa, launchBrowser, openPage, pageOptions, waitEvent, events, waitMessage, decryptFailures, waitQueuesEmpty } from '../test-support/e2e.js';
import { startBaileys, textOf } from '../test-support/baileys.js';
import { proto } from 'baileys';

const ANN = '15550050001'; // the linked device that moves: Baileys, then the page, then Baileys
const BOB = '15550050002'; // a phone
const CY = '15550050003'; // a phone, in a group with Ann and Bob

let server, fakewa, browser;
const clients = [];
const dirs = [];

before(async () => {
  [server, fakewa] = await Promise.all([startStatic(), startFakewa()]);
  browser = await launchBrowser();
  for (const [phone, pushName] of [[ANN, 'Ann'], [BOB, 'Bob'], [CY, 'Cy']]) await fakewa.api('POST', '/api/accounts', { phone, pushName });
});

after(async () => {
  for (const c of clients) await c.stop();
  await browser?.close();
  await fakewa?.close();
  await server?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  // Baileys 7 leaves a 30 s prekey upload timer behind (see baileys.test.js).
  setTimeout(() => process.exit(), 1000).unref();
});

const jid = (phone) => `${phone}@s.whatsapp.net`;
const readFolder = (dir) => Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
const ciphertextStubs = (c) => c.events.filter((e) => e.name === 'messages.upsert').flatMap((e) => e.data.messages)
  .filter((m) => m.messageStubType === proto.WebMessageInfo.StubType.CIPHERTEXT);

// Bob's phone writes first (it goes on with the session it has: the new
// home's copy must decrypt), then the device answers; then the same in the
// group, where Cy's phone gave its sender key once, before the move.
async function talkWithBaileys(c, round, group) {
  for (const i of [0, 1]) {
    const from = c.events.length;
    const { id } = await fakewa.api('POST', `/api/accounts/${BOB}/send`, { to: ANN, text: `${round} to Ann ${i}` });
    assert.equal(textOf(await c.waitMessage((m) => m.key.id === id, { from })), `${round} to Ann ${i}`);
    const sent = await c.send(jid(BOB), { text: `${round} from Ann ${i}` });
    assert.equal((await fakewa.waitInbox(BOB, (m) => m.id === sent.key.id)).text, `${round} from Ann ${i}`);
  }
  const from = c.events.length;
  const { id } = await fakewa.api('POST', `/api/accounts/${CY}/send`, { to: group, text: `${round} in the group` });
  assert.equal(textOf(await c.waitMessage((m) => m.key.id === id, { from })), `${round} in the group`);
  const sent = await c.send(group, { text: `${round}: Ann in the group` });
  for (const phone of [BOB, CY]) assert.equal((await fakewa.waitInbox(phone, (m) => m.id === sent.key.id)).chat, group);
}

// The phone (un)pins Bob's chat; Baileys (MACs checked: appStateMacVerification) reports it.
async function pin(c, pinned) {
  const from = c.events.length;
  await fakewa.api('POST', `/api/accounts/${ANN}/chat-state`, { chat: BOB, pinned });
  await c.waitFor('chats.update', (us) => us.some((u) => u.id === jid(BOB) && !!u.pinned === pinned), { from });
}

test('a Baileys folder moves into the page and back, keeping its link and its Signal sessions', async () => {
  // 1. Baileys pairs and talks.
  const ann = await startBaileys(fakewa, { onQR: (qr) => fakewa.api('POST', `/api/accounts/${ANN}/scan`, { qr }) });
  clients.push(ann);
  dirs.push(ann.dir);
  await ann.waitFor('connection.update', (d) => d.connection === 'open');
  const device = ann.state.creds.me.id;
  const group = (await fakewa.api('POST', `/api/accounts/${BOB}/groups`, { subject: 'Moving', participants: [ANN, CY] })).jid;
  await talkWithBaileys(ann, 'on Baileys', group);
  // App state: the phone pins Bob's chat; Baileys checks the patch's MACs and keeps the pin's value MAC.
  await pin(ann, true);
  assert.deepEqual(await waitQueuesEmpty(fakewa, [device]), {});
  await ann.stop({ keepDir: true });

  // 2. Its folder into the page: no QR, the same device.
  const ctx = await browser.newContext();
  const page = await openPage(ctx, server.url, pageOptions(fakewa));
  const files = readFolder(ann.dir);
  assert.ok(Object.keys(files).some((f) => f.startsWith('session-')), 'Baileys saved sessions');
  const report = await page.evaluate((f) => window.wm.importBaileysSession('moved', { files: f }), files);
  assert.equal(report.device, device);
  assert.ok(report.counts.sessions > 0 && report.counts.prekeys > 0 && report.counts.identities > 0 && report.counts.sender_keys >= 2, JSON.stringify(report.counts));
  // Only Baileys' caches (device lists, whom its sender key reached) and creds fields of its own
  // are left out: no session, no key.
  assert.deepEqual(report.dropped.filter((d) => !/^(device-list|sender-key-memory): \d+ records, a cache whatsmeow does not keep|^creds fields whatsmeow has no place for: /.test(d)), []);
  assert.ok(report.dropped.some((d) => d.startsWith('device-list: ')), JSON.stringify(report.dropped));
  // The same state as {creds, keys} (values as Baileys holds them in memory) converts alike.
  const asObject = await page.evaluate(async (f) => {
    const revive = (_, v) => (v && v.type === 'Buffer' && typeof v.data === 'string' ? Uint8Array.from(atob(v.data), (ch) => ch.charCodeAt(0)) : v);
    const keys = {};
    for (const [name, text] of Object.entries(f)) {
      if (name === 'creds.json') continue;
      const [, type, id] = name.match(/^(pre-key|session|sender-key-memory|sender-key|app-state-sync-key|app-state-sync-version|lid-mapping|device-list|tctoken|identity-key)-(.*)\.json$/);
      (keys[type] ??= {})[id.replace(/--/g, '::')] = JSON.parse(text, revive);
    }
    const state = { creds: JSON.parse(f['creds.json'], revive), keys };
    const r = await window.wm.importBaileysSession('as-object', state);
    await window.wm.deleteSession('as-object'); // one device, one home: never run two copies
    return r;
  }, files);
  assert.deepEqual(asObject.counts, report.counts);
  await assert.rejects(page.evaluate(() => window.wm.importBaileysSession('x', { creds: {}, keys: { get() {}, set() {} } })),
    /SignalKeyStore/);

  await page.evaluate(() => window.create('moved', { auth: { strategy: 'local', clientId: 'moved' }, logLevel: 'error' }));
  await page.evaluate(() => window.clients.moved.connect());
  await waitEvent(page, 'moved', 'ready');
  assert.ok(!(await events(page, 'moved')).includes('qr'), 'imported: no QR');
  assert.equal(await page.evaluate(() => window.clients.moved.getCreds().me), device);
  for (const i of [0, 1]) {
    await fakewa.api('POST', `/api/accounts/${BOB}/send`, { to: ANN, text: `to the page ${i}` });
    await waitMessage(page, 'moved', (m) => m.text === `to the page ${i}`);
    await page.evaluate(([to, t]) => window.clients.moved.sendText(to, t), [BOB, `from the page ${i}`]);
    await fakewa.waitInbox(BOB, (m) => m.text === `from the page ${i}`);
  }
  // Cy's phone sends no new sender key: the page reads with Baileys' converted one.
  await fakewa.api('POST', `/api/accounts/${CY}/send`, { to: group, text: 'the page in the group' });
  assert.equal((await waitMessage(page, 'moved', (m) => m.text === 'the page in the group')).chat, group);
  const groupId = await page.evaluate(([to, t]) => window.clients.moved.sendText(to, t), [group, 'from the page to the group']);
  for (const phone of [BOB, CY]) assert.equal((await fakewa.waitInbox(phone, (m) => m.id === groupId)).text, 'from the page to the group');
  // The phone unpins: whatsmeow takes out the value MAC Baileys kept (converted) and checks the new
  // LT hash against the patch's snapshot MAC, so a hash or MAC lost on the way would fail here.
  await fakewa.api('POST', `/api/accounts/${ANN}/chat-state`, { chat: BOB, pinned: false });
  await page.waitForFunction(() => window.events.moved.some((e) => e.name === 'chats.update' && e.payload.chats.some((c) => c.pinned === false)));
  assert.deepEqual(await page.evaluate(() => window.events.moved.filter((e) => e.name === 'error').map((e) => e.payload)), []);
  assert.deepEqual(await waitQueuesEmpty(fakewa, [device]), {});
  assert.ok(!(await events(page, 'moved')).includes('undecryptable'), 'the page decrypted everything');

  // 3. Back out as a Baileys folder, which Baileys opens with no QR.
  const out = await page.evaluate(async () => {
    const c = window.clients.moved;
    await c.disconnect();
    const b = await c.exportBaileysSession();
    return { files: b.files, dropped: b.dropped, device: b.device, sessions: Object.keys(b.keys.session || {}).length, senderKeys: Object.keys(b.keys['sender-key'] || {}).length, privLen: b.creds.noiseKey.private.length };
  });
  await page.evaluate(() => window.clients.moved.destroy());
  await ctx.close();
  assert.equal(out.device, device);
  assert.equal(out.privLen, 32, 'byte strings come back as Uint8Arrays');
  assert.ok(out.sessions > 0 && out.senderKeys > 0, JSON.stringify(out));
  assert.deepEqual(out.dropped.filter((d) => !/Baileys' auth state has no place/.test(d)), []);
  const back = mkdtempSync(join(tmpdir(), 'wasmeow-baileys-back-'));
  dirs.push(back);
  for (const [name, text] of Object.entries(out.files)) writeFileSync(join(back, name), text, { mode: 0o600 });
  const again = await startBaileys(fakewa, { dir: back, onQR: () => assert.fail('Baileys asked for a QR with the exported folder') });
  clients.push(again);
  await again.waitFor('connection.update', (d) => d.connection === 'open');
  assert.equal(again.sockets, 1);
  assert.equal(again.state.creds.me.id, device);
  await talkWithBaileys(again, 'back on Baileys', group);
  await pin(again, true); // Baileys takes out the page's value MAC of the unpin (exported)

  // One linked device all along, and nobody asked for a message again.
  const accounts = await fakewa.api('GET', '/api/accounts');
  assert.deepEqual(accounts.find((a) => a.phone === ANN).devices.map((d) => d.jid).filter((d) => d.includes(':')), [device]);
  assert.deepEqual(decryptFailures(fakewa), [], 'no retry receipt, no decryption failure');
  for (const c of clients) assert.deepEqual(ciphertextStubs(c), [], 'Baileys decrypted everything');
});
