// Baileys (npm, pinned in package.json), a client that shares no code with
// whatsmeow, against fakewa: pairing by QR and by code, a login from its
// saved files, history sync and app state after pairing (MACs checked), texts
// with a phone and with a wasmeow page, media both ways, groups made by a
// phone and by Baileys, app-state patches both ways, and a phone's retry
// receipt. What fakewa and whatsmeow might get wrong together, Baileys would
// refuse here (docs/SERVICE.md "Checked with Baileys").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFakewa, startStatic, launchBrowser, openPage, pageOptions, pairByQR, waitMessage, waitQueuesEmpty, decryptFailures } from '../test-support/e2e.js';
import { startBaileys, textOf } from '../test-support/baileys.js';
import { proto } from 'baileys';

const ANN = '15550040001'; // Baileys, paired by QR
const BOB = '15550040002'; // a phone
const CY = '15550040003'; // a phone
const DORA = '15550040004'; // a wasmeow page
const EVE = '15550040005'; // Baileys, paired by code

let fakewa, ann;
const clients = [];

before(async () => {
  fakewa = await startFakewa();
  for (const [phone, pushName] of [[ANN, 'Ann'], [BOB, 'Bob'], [CY, 'Cy'], [DORA, 'Dora'], [EVE, 'Eve']]) {
    await fakewa.api('POST', '/api/accounts', { phone, pushName });
  }
});

after(async () => {
  for (const c of clients) await c.stop();
  await fakewa?.close();
  // Baileys 7 never clears the 30 s timeout it races each prekey upload
  // against (lib/Socket/socket.js uploadPreKeys), which would hold this
  // process open that long after the tests; nothing else is left by now.
  setTimeout(() => process.exit(), 1000).unref();
});

const open = (c, opts) => c.waitFor('connection.update', (d) => d.connection === 'open', opts);
const jid = (phone) => `${phone}@s.whatsapp.net`;
// A message from a peer names its chat by LID (addressing_mode lid) with the
// phone number beside it; Baileys keeps both.
const fromPhone = (m, phone) => m.key.remoteJidAlt === jid(phone) || m.key.participantAlt === jid(phone);

test('pairs by QR, gets the history and app state, and logs in again from its files with no QR', async () => {
  // Before the pairing: a chat on Ann's phone and a saved contact.
  await fakewa.api('POST', `/api/accounts/${BOB}/send`, { to: ANN, text: 'before you linked' });
  await fakewa.api('POST', `/api/accounts/${ANN}/contacts`, { contacts: [{ phone: BOB, firstName: 'Bob', fullName: 'Bob Builder' }] });
  const qrs = [];
  ann = await startBaileys(fakewa, {
    onQR: async (qr) => { qrs.push(qr); await fakewa.api('POST', `/api/accounts/${ANN}/scan`, { qr }); },
  });
  clients.push(ann);
  await open(ann);
  assert.equal(qrs.length, 1);
  assert.match(qrs[0], /^https:\/\/wa\.me\/settings\/linked_devices#/);
  assert.match(ann.state.creds.me.id, new RegExp(`^${ANN}:\\d+@s\\.whatsapp\\.net$`));
  assert.match(ann.state.creds.me.lid, /@lid$/);
  // The pairing ends with a 515 "restart required": a second socket logs in.
  assert.equal(ann.sockets, 2);

  // History sync: the phone's chat with Bob and its message.
  const hist = await ann.waitFor('messaging-history.set', (h) => h.chats.some((c) => c.id === jid(BOB)));
  assert.equal(hist.syncType, proto.HistorySync.HistorySyncType.INITIAL_BOOTSTRAP);
  assert.ok(hist.messages.some((m) => textOf(m) === 'before you linked' && !m.key.fromMe), JSON.stringify(hist.messages));
  // App state: the saved contact, and the push name as the account's name.
  // (Baileys' event buffer may fold the contacts into a history set.)
  await ann.waitFor('creds.update', (u) => u.me?.name === 'Ann');
  assert.equal(ann.contacts().get(jid(BOB))?.name, 'Bob Builder');
  assert.ok(ann.contacts().size >= 2, 'the phone\'s other saved contacts');

  // A new process on the same files: no QR, straight in. (Once Baileys has
  // acknowledged all it was sent: what it has not, the service sends again,
  // and Baileys cannot decrypt a second time what it already decrypted.)
  assert.deepEqual(await waitQueuesEmpty(fakewa, [ann.state.creds.me.id]), {});
  const dir = ann.dir;
  await ann.stop({ keepDir: true });
  ann = await startBaileys(fakewa, { dir, onQR: () => assert.fail('asked for a QR with a saved session') });
  clients.push(ann);
  await open(ann);
  assert.equal(ann.sockets, 1);
  assert.ok(!ann.events.some((e) => e.name === 'connection.update' && e.data.qr));
  assert.equal(ann.state.creds.me.id.split(':')[0], ANN);
});

// The phone enters a pairing code. Baileys' requestPairingCode returns the
// code without waiting for the service's answer, so the phone may be quicker
// than the companion's request: try again while fakewa has no one waiting.
async function enterCode(phone, code) {
  const end = Date.now() + 5000;
  for (;;) {
    try {
      return await fakewa.api('POST', `/api/accounts/${phone}/link-code`, { code });
    } catch (e) {
      if (!/no companion is waiting/.test(e.message) || Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

test('pairs by phone-number code, refusing a wrong one first', async () => {
  const eve = await startBaileys(fakewa);
  clients.push(eve);
  await eve.waitFor('connection.update', (d) => d.qr);
  const first = await eve.sock.requestPairingCode(EVE);
  assert.match(first, /^[A-Z0-9]{8}$/);
  const wrong = first === 'AAAAAAAA' ? 'BBBBBBBB' : 'AAAAAAAA';
  await assert.rejects(enterCode(EVE, wrong), /wrong pairing code/);
  // A refused code ends that attempt; the user asks for a new code.
  const code = await eve.sock.requestPairingCode(EVE);
  const { device } = await enterCode(EVE, code);
  await open(eve);
  assert.equal(eve.state.creds.me.id, device);
  assert.ok(!eve.events.some((e) => e.name === 'connection.update' && e.data.connection === 'open' && e.socket === 1));
});

test('texts both ways with a phone; media both ways through the media host', async () => {
  const from = ann.events.length;
  const { id } = await fakewa.api('POST', `/api/accounts/${BOB}/send`, { to: ANN, text: 'hi ann' });
  const got = await ann.waitMessage((m) => m.key.id === id, { from });
  assert.equal(textOf(got), 'hi ann');
  assert.ok(fromPhone(got, BOB), JSON.stringify(got.key));
  assert.equal(got.key.fromMe, false);
  assert.equal(got.pushName, 'Bob');

  const sent = await ann.send(jid(BOB), { text: 'hi bob' });
  const inbox = await fakewa.waitInbox(BOB, (m) => m.text === 'hi bob');
  assert.equal(inbox.id, sent.key.id);
  assert.equal(inbox.from.split(':')[0], ANN);
  // A reply as Baileys users write it: to the chat the message came in,
  // which is Bob's LID.
  assert.match(got.key.remoteJid, /@lid$/);
  const reply = await ann.send(got.key.remoteJid, { text: 'reply by lid' }, { quoted: got });
  assert.equal((await fakewa.waitInbox(BOB, (m) => m.id === reply.key.id)).text, 'reply by lid');

  const image = Buffer.alloc(4096);
  for (let i = 0; i < image.length; i++) image[i] = (i * 31 + 7) & 0xff;
  image.set([0xff, 0xd8, 0xff]);
  const media = await fakewa.api('POST', `/api/accounts/${BOB}/send-media`, {
    to: ANN, type: 'image', data: image.toString('base64'), mimetype: 'image/jpeg', caption: 'a picture', width: 64, height: 64,
  });
  const msg = await ann.waitMessage((m) => m.key.id === media.id, { from });
  assert.equal(msg.message.imageMessage.caption, 'a picture');
  assert.equal(msg.message.imageMessage.mimetype, 'image/jpeg');
  assert.ok(msg.message.imageMessage.directPath.startsWith(media.directPath.split('?')[0]));
  const bytes = await ann.download(msg);
  assert.ok(bytes.equals(image), `downloaded ${bytes.length} bytes differ from the ${image.length} sent`);

  // And the other way: Baileys uploads to the media host, the phone downloads,
  // checks and decrypts.
  const doc = Buffer.from('a document from baileys\n'.repeat(100));
  const up = await ann.send(jid(BOB), { document: doc, mimetype: 'text/plain', fileName: 'notes.txt' });
  const gotDoc = await fakewa.waitInbox(BOB, (m) => m.id === up.key.id);
  assert.equal(gotDoc.media?.error, undefined);
  assert.equal(gotDoc.media.type, 'document');
  assert.equal(gotDoc.media.fileName, 'notes.txt');
  assert.ok(Buffer.from(gotDoc.media.data, 'base64').equals(doc), 'the phone decrypted other bytes than Baileys sent');
});

test('in a group a phone made, Baileys reads a phone\'s message and the phones read Baileys\'', async () => {
  const from = ann.events.length;
  const group = await fakewa.api('POST', `/api/accounts/${BOB}/groups`, { subject: 'Trio', participants: [ANN, CY] });
  const meta = await ann.waitFor('groups.upsert', (gs) => gs.some((g) => g.id === group.jid), { from });
  const g = meta.find((x) => x.id === group.jid);
  assert.equal(g.subject, 'Trio');
  assert.equal(g.participants.length, 3);
  assert.equal(g.ownerPn, jid(BOB));

  const { id } = await fakewa.api('POST', `/api/accounts/${CY}/send`, { to: group.jid, text: 'hello trio' });
  const got = await ann.waitMessage((m) => m.key.id === id, { from });
  assert.equal(got.key.remoteJid, group.jid);
  assert.equal(textOf(got), 'hello trio');
  assert.ok(fromPhone(got, CY), JSON.stringify(got.key));

  const sent = await ann.send(group.jid, { text: 'hello from baileys' });
  for (const phone of [BOB, CY]) {
    const m = await fakewa.waitInbox(phone, (x) => x.text === 'hello from baileys');
    assert.equal(m.id, sent.key.id);
    assert.equal(m.chat, group.jid);
  }
  // Both phones' delivery receipts come back to Baileys, from the group, each
  // naming its phone.
  const receipts = await ann.waitReceipts((r) => r.id === sent.key.id, 2);
  assert.deepEqual(receipts.map((r) => String(r.from)), [group.jid, group.jid]);
  const phones = group.participants.filter((p) => p.jid !== jid(ANN)).map((p) => p.lid).sort();
  assert.deepEqual(receipts.map((r) => String(r.participant)).sort(), phones);
});

test('a group Baileys creates and renames: the phones are in it and read it', async () => {
  const from = ann.events.length;
  const g = await ann.sock.groupCreate('Made by Baileys', [jid(BOB), jid(CY)]);
  assert.equal(g.subject, 'Made by Baileys');
  assert.equal(g.participants.find((p) => p.phoneNumber === jid(ANN))?.admin, 'superadmin');
  assert.equal(g.participants.length, 3);
  await ann.sock.groupUpdateSubject(g.id, 'Renamed by Baileys');
  const [promoted] = await ann.sock.groupParticipantsUpdate(g.id, [jid(BOB)], 'promote');
  assert.equal(promoted.status, '200');
  const seen = (await fakewa.api('GET', `/api/accounts/${CY}/groups`)).find((x) => x.jid === g.id);
  assert.equal(seen?.subject, 'Renamed by Baileys');
  assert.equal(seen.participants.find((p) => p.jid === jid(BOB))?.admin, 'admin');
  const meta = await ann.sock.groupMetadata(g.id);
  assert.equal(meta.subject, 'Renamed by Baileys');
  assert.equal(meta.participants.find((p) => p.phoneNumber === jid(BOB))?.admin, 'admin');

  const { id } = await fakewa.api('POST', `/api/accounts/${BOB}/send`, { to: g.id, text: 'in the baileys group' });
  assert.equal(textOf(await ann.waitMessage((m) => m.key.id === id, { from })), 'in the baileys group');
  const sent = await ann.send(g.id, { text: 'hello own group' });
  assert.equal((await fakewa.waitInbox(CY, (m) => m.id === sent.key.id)).chat, g.id);
});

test('app state both ways: the phone takes Baileys\' patches, Baileys verifies the phone\'s', async () => {
  const before = await fakewa.api('GET', `/api/accounts/${ANN}/app-state`);
  await ann.sock.chatModify({ mute: Date.now() + 8 * 3600 * 1000 }, jid(BOB));
  await ann.sock.updateProfileName('Ann B.');
  const after = await fakewa.api('GET', `/api/accounts/${ANN}/app-state`);
  assert.equal(after.regular_high, before.regular_high + 1, JSON.stringify({ before, after }));
  assert.equal(after.critical_block, before.critical_block + 1, JSON.stringify({ before, after }));
  // A patch the phone writes on top of Baileys' (MACs checked on both sides).
  const from = ann.events.length;
  await fakewa.api('POST', `/api/accounts/${ANN}/chat-state`, { chat: BOB, pinned: true });
  const pinned = await ann.waitFor('chats.update', (us) => us.some((u) => u.id === jid(BOB) && u.pinned), { from });
  assert.ok(pinned.find((u) => u.id === jid(BOB)).pinned > 0);
});

// The wasmeow page: one function, so the client options live in one place.
async function wasmeowPage(phone) {
  const [server, browser] = await Promise.all([startStatic(), launchBrowser()]);
  const page = await openPage(await browser.newContext(), server.url, pageOptions(fakewa));
  await page.evaluate(() => window.create('page', { auth: { strategy: 'none' }, logLevel: 'error' }));
  const me = await pairByQR(fakewa, page, 'page', phone);
  return {
    page, me,
    sendText: (to, text) => page.evaluate(([t, x]) => window.clients.page.sendText(t, x), [to, text]),
    waitText: (text) => waitMessage(page, 'page', (m) => m.text === text),
    close: async () => { await browser.close(); await server.close(); },
  };
}

test('texts both ways with a wasmeow page', async () => {
  const page = await wasmeowPage(DORA);
  try {
    const from = ann.events.length;
    const sent = await ann.send(jid(DORA), { text: 'hello page' });
    const shown = await page.waitText('hello page');
    assert.equal(shown.id, sent.key.id);
    assert.ok(shown.sender.startsWith(ANN) || shown.sender.startsWith(ann.state.creds.me.lid.split(':')[0]), shown.sender);
    const id = await page.sendText(jid(ANN), 'hello baileys');
    const got = await ann.waitMessage((m) => m.key.id === id, { from });
    assert.equal(textOf(got), 'hello baileys');
    assert.ok(fromPhone(got, DORA), JSON.stringify(got.key));
  } finally {
    await page.close();
  }
});

test('fakewa understood every stanza, and no message needed a retry', () => {
  const log = [...fakewa.logs, ...fakewa.stdout].join('').split('\n');
  assert.deepEqual(log.filter((l) => /unknown|ignored|not implemented/i.test(l)), []);
  // (The wrong pairing code above is logged as a key bundle that does not decrypt.)
  assert.deepEqual(decryptFailures(fakewa).filter((l) => !/wrong pairing code/.test(l)), []);
  for (const c of clients) {
    // Baileys shows a message it could not decrypt as a CIPHERTEXT stub.
    const stubs = c.events.filter((e) => e.name === 'messages.upsert').flatMap((e) => e.data.messages)
      .filter((m) => m.messageStubType === proto.WebMessageInfo.StubType.CIPHERTEXT);
    assert.deepEqual(stubs, []);
  }
});

// After the count above: a fault that makes a phone ask again on purpose.
test('a phone that lost its sessions asks Baileys again (retry receipt) and reads the resend', async () => {
  const first = await ann.send(jid(CY), { text: 'before the phone forgets' });
  await fakewa.waitInbox(CY, (m) => m.id === first.key.id);
  await fakewa.api('POST', `/api/accounts/${CY}/faults/forget-sessions`, {});
  const from = ann.events.length;
  const sent = await ann.send(jid(CY), { text: 'after the phone forgot' });
  const got = await fakewa.waitInbox(CY, (m) => m.id === sent.key.id);
  assert.equal(got.text, 'after the phone forgot');
  const log = [...fakewa.logs, ...fakewa.stdout].join('');
  assert.match(log, new RegExp(`phone ${CY}: asked \\S+ for message ${sent.key.id} again \\(retry receipt\\)`));
  // Baileys took the phone's retry receipt: no error event, the message not failed.
  assert.ok(!ann.events.slice(from).some((e) => e.name === 'messages.update' && e.data.some((u) => u.key.id === sent.key.id && u.update.status === proto.WebMessageInfo.Status.ERROR)));
});
