// Every message type both ways between a page's client and a simulated
// phone (issue 13): the phone sends protobuf JSON through fakewa's
// send-message, the page's `message` events carry type and fields; the page
// sends each of sendMessage's shapes and the phone reports what it got.
// Then receipts, presence and chat states between two clients of the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStatic, startFakewa, launchBrowser, openPage, pageOptions, pairByQR, waitMessage, waitEvent, eventCount } from '../test-support/e2e.js';

const ANA = '15550013001'; // the page's first account
const BEN = '15550013002'; // the page's second account
const PIA = '15550013003'; // a phone
const jid = (p) => `${p}@s.whatsapp.net`;

let server, fakewa, browser, page;

before(async () => {
  [server, fakewa, browser] = await Promise.all([startStatic(), startFakewa(), launchBrowser()]);
  for (const [phone, pushName] of [[ANA, 'Ana'], [BEN, 'Ben'], [PIA, 'Pia']]) await fakewa.api('POST', '/api/accounts', { phone, pushName });
  page = await openPage(await browser.newContext(), server.url, pageOptions(fakewa));
  for (const name of ['ana', 'ben']) await page.evaluate((n) => window.create(n, { auth: { strategy: 'none', clientId: n }, logLevel: 'error' }), name);
  await pairByQR(fakewa, page, 'ana', ANA);
  await pairByQR(fakewa, page, 'ben', BEN);
});

after(async () => {
  await browser?.close();
  await fakewa?.close();
  await server?.close();
});

const send = (client, to, content) => page.evaluate(([c, t, m]) => window.clients[c].sendMessage(t, m), [client, to, content]);
const phoneSends = async (phone, to, message) => (await fakewa.api('POST', `/api/accounts/${phone}/send-message`, { to, message })).id;

test('each message type from a phone arrives typed, with its fields and raw', async () => {
  // Pia writes first (Ana then holds her privacy token), Ana answers.
  const { id: first } = await fakewa.api('POST', `/api/accounts/${PIA}/send`, { to: ANA, text: 'first' });
  await waitMessage(page, 'ana', (m) => m.id === first && m.type === 'text' && m.text === 'first');
  const mine = await send('ana', jid(PIA), { text: 'mine' });
  await fakewa.waitInbox(PIA, (m) => m.id === mine.id);
  const theirKey = { remoteJID: jid(ANA), fromMe: true, ID: first };
  const ourKey = { remoteJID: jid(ANA), fromMe: false, ID: mine.id };
  const cases = [
    [{ extendedTextMessage: { text: 'a reply', contextInfo: { stanzaID: mine.id, participant: jid(ANA), quotedMessage: { conversation: 'mine' }, mentionedJID: [jid(ANA)] } } },
      (m) => m.type === 'text' && m.text === 'a reply' && m.quoted?.id === mine.id && m.quoted.sender.startsWith(ANA) && m.quoted.text === 'mine' && m.mentions?.[0].startsWith(ANA)],
    [{ reactionMessage: { key: ourKey, text: '👍', senderTimestampMS: String(Date.now()) } },
      (m) => m.type === 'reaction' && m.reaction.text === '👍' && m.reaction.key.id === mine.id && m.reaction.key.fromMe === true],
    [{ protocolMessage: { type: 'MESSAGE_EDIT', key: theirKey, editedMessage: { conversation: 'first, edited' } } },
      (m) => m.type === 'edit' && m.edit.key.id === first && m.edit.key.fromMe === false && m.edit.text === 'first, edited'],
    [{ protocolMessage: { type: 'REVOKE', key: theirKey } }, (m) => m.type === 'revoke' && m.revoke.key.id === first],
    [{ locationMessage: { degreesLatitude: 48.8584, degreesLongitude: 2.2945, name: 'Eiffel Tower' } },
      (m) => m.type === 'location' && m.location.degreesLatitude === 48.8584 && m.location.name === 'Eiffel Tower'],
    [{ pollCreationMessage: { name: 'Pizza?', options: [{ optionName: 'yes' }, { optionName: 'no' }], selectableOptionsCount: 1 } },
      (m) => m.type === 'poll' && m.poll.name === 'Pizza?' && m.poll.options.join() === 'yes,no' && m.poll.selectableCount === 1],
    [{ contactMessage: { displayName: 'Jo', vcard: 'BEGIN:VCARD\nFN:Jo\nEND:VCARD' } }, (m) => m.type === 'contact' && m.contact.displayName === 'Jo'],
    [{ buttonsResponseMessage: { selectedButtonID: 'b1' } }, (m) => m.type === 'unknown' && m.raw.buttonsResponseMessage?.selectedButtonID === 'b1'],
  ];
  for (const [message, check] of cases) {
    const id = await phoneSends(PIA, ANA, message);
    const m = await waitMessage(page, 'ana', (e) => e.id === id);
    assert.ok(check(m), `${Object.keys(message)[0]}: ${JSON.stringify(m)}`);
    assert.deepEqual(m.key, { remoteJid: m.chat, fromMe: false, id });
    assert.equal(typeof m.raw, 'object');
  }
});

test('each sendMessage shape reaches a phone as that message', async () => {
  const { id: theirs } = await fakewa.api('POST', `/api/accounts/${PIA}/send`, { to: ANA, text: 'theirs' });
  const event = await waitMessage(page, 'ana', (m) => m.id === theirs);
  const plain = await send('ana', jid(PIA), { text: 'plain' });
  assert.deepEqual(Object.keys(plain).sort(), ['fromMe', 'id', 'remoteJid']);
  assert.equal(plain.fromMe, true);
  const got = async (content) => {
    const key = await send('ana', PIA, content);
    return (await fakewa.waitInbox(PIA, (m) => m.id === key.id)).raw;
  };
  assert.equal((await fakewa.waitInbox(PIA, (m) => m.id === plain.id)).raw.conversation, 'plain');
  // A reply quoting the message event itself, with a mention.
  let raw = await got({ text: 'a reply', quoted: event, mentions: [jid(PIA)] });
  assert.equal(raw.extendedTextMessage.contextInfo.stanzaID, theirs);
  assert.equal(raw.extendedTextMessage.contextInfo.quotedMessage.conversation, 'theirs');
  assert.deepEqual(raw.extendedTextMessage.contextInfo.mentionedJID, [jid(PIA)]);
  raw = await got({ react: { key: event.key, text: '❤️' } });
  assert.equal(raw.reactionMessage.text, '❤️');
  assert.equal(raw.reactionMessage.key.ID, theirs);
  raw = await got({ edit: plain, text: 'plain, edited' });
  assert.equal(raw.editedMessage.message.protocolMessage.type, 'MESSAGE_EDIT');
  assert.equal(raw.editedMessage.message.protocolMessage.editedMessage.conversation, 'plain, edited');
  raw = await got({ delete: plain });
  assert.equal(raw.protocolMessage.type, 'REVOKE');
  assert.equal(raw.protocolMessage.key.ID, plain.id);
  raw = await got({ location: { degreesLatitude: -33.8568, degreesLongitude: 151.2153, name: 'Opera House' } });
  assert.equal(raw.locationMessage.name, 'Opera House');
  raw = await got({ poll: { name: 'Tea?', values: ['yes', 'no'], selectableCount: 1 } });
  assert.deepEqual(raw.pollCreationMessage.options.map((o) => o.optionName), ['yes', 'no']);
  raw = await got({ raw: { contactMessage: { displayName: 'Lu', vcard: 'BEGIN:VCARD\nFN:Lu\nEND:VCARD' } } });
  assert.equal(raw.contactMessage.displayName, 'Lu');
  // Refusals are coded, and nothing is sent.
  const codes = await page.evaluate(async (to) => {
    const c = window.clients.ana;
    const attempts = [{}, { text: '' }, { text: 'x', react: { key: { id: 'A', fromMe: true }, text: 'x' } }, { poll: { name: 'q', options: ['a'] } },
      { location: { degreesLatitude: 100, degreesLongitude: 0 } }, { edit: { id: 'A', fromMe: false }, text: 'x' }, { raw: { nope: 1 } }, { text: 1n }, { image: 'not base64!' }];
    return Promise.all(attempts.map((a) => c.sendMessage(to, a).then(() => 'sent', (e) => e.code)));
  }, jid(PIA));
  assert.deepEqual(codes, Array(9).fill('invalid_option'));
});

test('receipts, presence and chat states arrive', async () => {
  // Ben's phone writes to Ana, so Ana holds Ben's token; Ana writes to Ben.
  const { id: hello } = await fakewa.api('POST', `/api/accounts/${BEN}/send`, { to: ANA, text: 'hello Ana' });
  await waitMessage(page, 'ana', (m) => m.id === hello);
  const from = await eventCount(page, 'ana');
  const key = await send('ana', jid(BEN), { text: 'read me' });
  await waitMessage(page, 'ben', (m) => m.id === key.id && m.text === 'read me');
  const receipt = async (type) => page.waitForFunction(([f, t, id]) => window.events.ana.slice(f).find((e) => e.name === 'receipt' && e.payload.type === t && e.payload.ids.includes(id))?.payload,
    [from, type, key.id], { timeout: 20000 }).then((h) => h.jsonValue());
  const delivered = await receipt('delivered');
  assert.ok(delivered.reader.startsWith(BEN) && delivered.chat.startsWith(BEN) && !delivered.fromMe, JSON.stringify(delivered));
  await page.evaluate(([a, id]) => window.clients.ben.markRead(a, [id]), [jid(ANA), key.id]);
  const read = await receipt('read');
  assert.ok(read.reader.startsWith(BEN), JSON.stringify(read));

  // A subscription is answered with the contact's presence at once.
  await page.evaluate((b) => window.clients.ana.subscribePresence(b), jid(BEN));
  const presence = await waitEvent(page, 'ana', 'presence', { from });
  assert.ok(presence.payload.jid.startsWith(BEN) && presence.payload.available === false, JSON.stringify(presence.payload));

  for (const state of ['composing', 'recording', 'paused']) {
    const at = await eventCount(page, 'ana');
    await page.evaluate(([a, s]) => window.clients.ben.sendChatPresence(a, s), [jid(ANA), state]);
    const cp = await waitEvent(page, 'ana', 'chat_presence', { from: at });
    assert.deepEqual({ ...cp.payload, chat: cp.payload.chat.split('@')[0], sender: cp.payload.sender.split('@')[0] }, { chat: BEN, sender: BEN, state });
  }
  const bad = await page.evaluate(() => Promise.all([
    window.clients.ana.sendPresence('away'), window.clients.ana.sendChatPresence('15550013002', 'typing'), window.clients.ana.markRead('15550013002', 'id'),
  ].map((p) => p.then(() => 'ok', (e) => e.code))));
  assert.deepEqual(bad, ['invalid_option', 'invalid_option', 'invalid_option']);
});

test("a phone's read and played receipts reach the page, 1:1 and in a group, and its own devices", async () => {
  const receipt = (client, from, pred) => page.waitForFunction(([c, f, src]) => window.events[c].slice(f)
    .find((e) => e.name === 'receipt' && new Function('r', `return ${src}`)(e.payload))?.payload, [client, from, pred], { timeout: 20000 }).then((h) => h.jsonValue());
  const phoneReads = (phone, ids, type) => fakewa.api('POST', `/api/accounts/${phone}/read`, { ids, type });
  let from = await eventCount(page, 'ana');
  const one = await send('ana', jid(PIA), { text: 'read us' });
  const two = await send('ana', jid(PIA), { text: 'and me' });
  await fakewa.waitInbox(PIA, (m) => m.id === two.id);
  await phoneReads(PIA, [one.id, two.id], 'read');
  const read = await receipt('ana', from, `r.type === 'read' && r.ids.includes('${one.id}')`);
  assert.ok(read.ids.includes(two.id) && read.reader.startsWith(PIA) && read.chat.startsWith(PIA) && !read.fromMe && !read.isGroup, JSON.stringify(read));
  await phoneReads(PIA, [two.id], 'played');
  const played = await receipt('ana', from, `r.type === 'played'`);
  assert.ok(played.ids.join() === two.id && played.reader.startsWith(PIA), JSON.stringify(played));

  // In a group the reader is the participant.
  const group = (await page.evaluate((p) => window.clients.ana.createGroup('Reads', [p]), PIA)).jid;
  from = await eventCount(page, 'ana');
  const g = await send('ana', group, { text: 'group, read me' });
  await fakewa.waitInbox(PIA, (m) => m.id === g.id && m.chat === group);
  for (const type of ['read', 'played']) {
    await phoneReads(PIA, [g.id], type);
    const r = await receipt('ana', from, `r.type === '${type}' && r.ids.includes('${g.id}')`);
    assert.ok(r.isGroup && r.chat === group && r.reader.startsWith(PIA) && !r.fromMe, JSON.stringify(r));
  }

  // Ben's phone reads what Ana sent Ben: Ben's page hears it as its own
  // read (fromMe, the chat Ana); read-self reaches Ben's devices only.
  from = await eventCount(page, 'ben');
  const fromAna = await eventCount(page, 'ana');
  const k = await send('ana', jid(BEN), { text: 'for your phone' });
  await fakewa.waitInbox(BEN, (m) => m.id === k.id);
  await phoneReads(BEN, [k.id], 'read-self');
  const own = await receipt('ben', from, `r.type === 'read' && r.ids.includes('${k.id}')`);
  assert.ok(own.fromMe && own.chat.startsWith(ANA) && own.reader.startsWith(BEN), JSON.stringify(own));
  await phoneReads(BEN, [k.id], 'played-self');
  await receipt('ben', from, `r.type === 'played' && r.ids.includes('${k.id}') && r.fromMe`);
  await new Promise((res) => setTimeout(res, 300));
  assert.ok(!(await page.evaluate(([f, id]) => window.events.ana.slice(f).some((e) => e.name === 'receipt' && e.payload.type !== 'delivered' && e.payload.ids.includes(id)), [fromAna, k.id])),
    'a read-self or played-self receipt reached the author');
});

test('poll votes both ways are decrypted: the option names in poll_vote, and the phone reads ours', async () => {
  const poll = await send('ana', jid(PIA), { poll: { name: 'Lunch?', options: ['pizza', 'salad', 'soup'], selectableCount: 0 } });
  await fakewa.waitInbox(PIA, (m) => m.id === poll.id);
  await fakewa.api('POST', `/api/accounts/${PIA}/vote`, { poll: poll.id, options: ['salad', 'soup'] });
  const vote = await waitMessage(page, 'ana', (m) => m.type === 'poll_vote' && m.pollVote.key.id === poll.id);
  assert.deepEqual(vote.pollVote.selectedOptions, ['salad', 'soup'], JSON.stringify(vote.pollVote));
  assert.ok(vote.pollVote.key.fromMe && vote.pollVote.selectedHashes.length === 2 && !vote.pollVote.error && vote.sender.startsWith(PIA), JSON.stringify(vote));

  const theirs = await phoneSends(PIA, ANA, { pollCreationMessage: { name: 'When?', options: [{ optionName: 'Mon' }, { optionName: 'Tue' }], selectableOptionsCount: 1 } });
  const p = await waitMessage(page, 'ana', (m) => m.id === theirs && m.type === 'poll');
  const mine = await send('ana', jid(PIA), { vote: { key: p.key, options: ['Tue'] } });
  const got = await fakewa.waitInbox(PIA, (m) => m.id === mine.id);
  assert.deepEqual(got.pollVote, { poll: theirs, options: ['Tue'] });
  const bad = await page.evaluate(([to, key]) => window.clients.ana.sendMessage(to, { vote: { key, options: ['Fri'] } }).then(() => 'sent', (e) => e.code), [jid(PIA), p.key]);
  assert.equal(bad, 'invalid_option');
});
