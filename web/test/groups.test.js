// A group of a page's client and phones (issue 13): created from the page,
// messages both ways (texts and a reaction), a member added (who reads the
// next message) and one removed (who does not), group.update events, and a
// reload in the middle of the conversation that keeps decrypting with no
// retry receipt (the sender keys come back from IndexedDB).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { startStatic, startFakewa, launchPersistent, openPage, pageOptions, pairByQR, waitMessage, waitEvent, eventCount, decryptFailures } from '../test-support/e2e.js';

const ANA = '15550014001'; // the page's account
const PIA = '15550014002';
const QUI = '15550014003';
const RIA = '15550014004';

let server, fakewa, profile, page;

before(async () => {
  [server, fakewa] = await Promise.all([startStatic(), startFakewa()]);
  profile = await launchPersistent();
  page = await openPage(profile.ctx, server.url, pageOptions(fakewa));
  for (const [phone, pushName] of [[ANA, 'Ana'], [PIA, 'Pia'], [QUI, 'Qui'], [RIA, 'Ria']]) await fakewa.api('POST', '/api/accounts', { phone, pushName });
});

after(async () => {
  await profile?.close();
  await fakewa?.close();
  await server?.close();
});

const options = { auth: { strategy: 'local', clientId: 'ana' }, logLevel: 'error' };
const call = (method, ...args) => page.evaluate(([m, a]) => window.clients.ana[m](...a), [method, args]);
const inGroup = (phone, group, text) => fakewa.waitInbox(phone, (m) => m.chat === group && m.text === text);
const groupSend = async (phone, group, text) => (await fakewa.api('POST', `/api/accounts/${phone}/send`, { to: group, text })).id;

test('a group of the page and phones: messages both ways, members, updates, and a reload with no retry', async () => {
  await page.evaluate((o) => window.create('ana', o), options);
  await pairByQR(fakewa, page, 'ana', ANA);
  const group = await call('createGroup', 'Team', [PIA, QUI]);
  assert.match(group.jid, /@g\.us$/);
  assert.equal(group.name, 'Team');
  assert.deepEqual(group.participants.map((p) => p.jid.split('@')[0]).sort(), [ANA, PIA, QUI]);
  assert.ok(group.participants.find((p) => p.jid.startsWith(ANA)).isSuperAdmin);
  const g = group.jid;

  // Both ways.
  const hello = await call('sendMessage', g, { text: 'hello team' });
  for (const p of [PIA, QUI]) assert.equal((await inGroup(p, g, 'hello team')).id, hello.id);
  const fromPia = await groupSend(PIA, g, 'hi from Pia');
  const m = await waitMessage(page, 'ana', (e) => e.id === fromPia);
  assert.ok(m.isGroup && m.chat === g && m.sender.startsWith(PIA) && m.type === 'text' && m.key.participant === m.sender, JSON.stringify(m));
  const { id: reaction } = await fakewa.api('POST', `/api/accounts/${QUI}/send-message`, {
    to: g, message: { reactionMessage: { key: { remoteJID: g, fromMe: false, ID: hello.id, participant: `${ANA}@s.whatsapp.net` }, text: '🎉' } },
  });
  const r = await waitMessage(page, 'ana', (e) => e.id === reaction);
  assert.ok(r.type === 'reaction' && r.reaction.key.id === hello.id && r.reaction.key.fromMe && r.reaction.text === '🎉', JSON.stringify(r));
  const reply = await call('sendMessage', g, { text: 'a reply', quoted: m });
  const got = await inGroup(PIA, g, 'a reply');
  assert.equal(got.id, reply.id);
  assert.equal(got.raw.extendedTextMessage.contextInfo.stanzaID, fromPia);

  // Members: Ria added reads the next message, Qui removed does not.
  let from = await eventCount(page, 'ana');
  const added = await call('updateGroupParticipants', g, 'add', [RIA]);
  assert.ok(added.length === 1 && !added[0].error, JSON.stringify(added));
  await call('updateGroupParticipants', g, 'remove', [QUI]);
  const updates = async (pred) => page.waitForFunction(([f, src]) => window.events.ana.slice(f).find((e) => e.name === 'group.update' && new Function('u', `return ${src}`)(e.payload))?.payload,
    [from, pred], { timeout: 20000 }).then((h) => h.jsonValue());
  const up = await updates(`(u.added || []).some((j) => j.startsWith('${RIA}'))`);
  assert.ok(up.jid === g && up.author?.startsWith(ANA), JSON.stringify(up));
  await updates(`(u.removed || []).some((j) => j.startsWith('${QUI}'))`);
  const after = await call('sendMessage', g, { text: 'after the changes' });
  assert.equal((await inGroup(RIA, g, 'after the changes')).id, after.id);
  await inGroup(PIA, g, 'after the changes');
  await new Promise((res) => setTimeout(res, 500));
  const quiGot = await fakewa.api('GET', `/api/accounts/${QUI}/messages`);
  assert.ok(!quiGot.some((x) => x.id === after.id), 'a removed member got the next message');
  from = await eventCount(page, 'ana');
  await call('setGroupName', g, 'Team B');
  await call('setGroupTopic', g, 'Mondays');
  const info = await call('getGroupInfo', g);
  assert.ok(info.name === 'Team B' && info.topic === 'Mondays' && info.participants.length === 3, JSON.stringify(info));
  assert.match(await call('getGroupInviteLink', g), /^https:\/\/chat\.whatsapp\.com\/\w+/);
  assert.deepEqual((await call('getJoinedGroups')).map((x) => x.jid), [g]);

  // A reload in the middle of the conversation: the phones keep writing,
  // the page keeps decrypting, and nobody needs a retry receipt.
  const before = await groupSend(RIA, g, 'before the reload');
  await waitMessage(page, 'ana', (e) => e.id === before);
  await page.reload();
  await page.waitForFunction(() => window.harnessReady === true);
  await page.evaluate((o) => window.create('ana', o), options);
  const during = await groupSend(PIA, g, 'while the page was away');
  await page.evaluate(() => window.clients.ana.connect());
  await waitEvent(page, 'ana', 'ready');
  const afterReload = [during, await groupSend(RIA, g, 'after the reload, Ria'), await groupSend(PIA, g, 'after the reload, Pia')];
  for (const id of afterReload) {
    const e = await waitMessage(page, 'ana', (x) => x.id === id);
    assert.ok(e.isGroup && e.chat === g && e.type === 'text', JSON.stringify(e));
  }
  const last = await call('sendMessage', g, { text: 'back again' });
  for (const p of [PIA, RIA]) assert.equal((await inGroup(p, g, 'back again')).id, last.id);
  assert.deepEqual(decryptFailures(fakewa), [], 'no message needed a retry receipt');
  await call('leaveGroup', g);
  assert.deepEqual(await call('getJoinedGroups'), []);
});

// Every message type both ways in a group of three accounts (the page, Pia,
// Qui), one loop each way; then poll votes in the group, decrypted.
test('every message type both ways in a group of three', async () => {
  const group = (await call('createGroup', 'Types', [PIA, QUI])).jid;
  const member = (p) => `${p}@s.whatsapp.net`;
  const sha = (b64) => createHash('sha256').update(Buffer.from(b64, 'base64')).digest('hex');
  const media = { image: 'image/jpeg', video: 'video/mp4', audio: 'audio/ogg; codecs=opus', document: 'application/pdf', sticker: 'image/webp' };
  const bytes = Object.fromEntries(Object.keys(media).map((k) => [k, randomBytes(3000 + k.length).toString('base64')]));
  const seed = await call('sendMessage', group, { text: 'the page writes' });
  const pias = await groupSend(PIA, group, 'Pia writes');
  const piaMsg = await waitMessage(page, 'ana', (e) => e.id === pias);

  // From the page: each kind reaches both phones as that message.
  const fromPage = [
    ...Object.keys(media).map((k) => [k, { [k]: bytes[k], mimetype: media[k], ...(k === 'document' ? { fileName: 'a.pdf' } : {}) },
      (m) => !m.media?.error && sha(m.media?.data ?? '') === sha(bytes[k]) && m.raw[`${k}Message`]]),
    ['location', { location: { degreesLatitude: 1.5, degreesLongitude: 2.5, name: 'Here' } }, (m) => m.raw.locationMessage?.name === 'Here'],
    ['contact', { raw: { contactMessage: { displayName: 'Jo', vcard: 'BEGIN:VCARD\nFN:Jo\nEND:VCARD' } } }, (m) => m.raw.contactMessage?.displayName === 'Jo'],
    ['poll', { poll: { name: 'Where?', options: ['here', 'there'] } }, (m) => m.raw.pollCreationMessage?.name === 'Where?'],
    ['reaction', { react: { key: piaMsg.key, text: '👍' } }, (m) => m.raw.reactionMessage?.key?.ID === pias],
    ['edit', { edit: seed, text: 'the page edits' }, (m) => m.raw.editedMessage?.message?.protocolMessage?.editedMessage?.conversation === 'the page edits'],
    ['revoke', { delete: seed }, (m) => m.raw.protocolMessage?.type === 'REVOKE' && m.raw.protocolMessage.key.ID === seed.id],
    ['reply', { text: 'a reply', quoted: piaMsg }, (m) => m.raw.extendedTextMessage?.contextInfo?.stanzaID === pias],
  ];
  const sent = {};
  for (const [kind, content, check] of fromPage) {
    const key = await page.evaluate(([g, c, isMedia]) => {
      if (isMedia) c[isMedia] = new Blob([Uint8Array.from(atob(c[isMedia]), (ch) => ch.charCodeAt(0))]);
      return window.clients.ana.sendMessage(g, c);
    }, [group, content, media[kind] ? kind : null]);
    sent[kind] = key;
    for (const p of [PIA, QUI]) {
      const got = await fakewa.waitInbox(p, (m) => m.id === key.id && m.chat === group);
      assert.ok(check(got), `${kind} as ${p} got it: ${JSON.stringify(got).slice(0, 400)}`);
    }
  }

  // From a phone: each kind reaches the page typed, media downloadable.
  const phoneMsg = (message) => fakewa.api('POST', `/api/accounts/${PIA}/send-message`, { to: group, message }).then((r) => r.id);
  const own = await groupSend(PIA, group, 'Pia again');
  const pageKey = { remoteJID: group, fromMe: false, ID: seed.id, participant: member(ANA) };
  const fromPhone = [
    ...Object.keys(media).map((k) => [k, () => fakewa.api('POST', `/api/accounts/${PIA}/send-media`, { to: group, type: k, data: bytes[k], mimetype: media[k], fileName: k === 'document' ? 'b.pdf' : '' }).then((r) => r.id),
      (m) => m.type === k && m.media?.mimetype === media[k]]),
    ['location', () => phoneMsg({ locationMessage: { degreesLatitude: 3.5, degreesLongitude: 4.5, name: 'There' } }), (m) => m.type === 'location' && m.location.name === 'There'],
    ['contact', () => phoneMsg({ contactMessage: { displayName: 'Lu', vcard: 'BEGIN:VCARD\nFN:Lu\nEND:VCARD' } }), (m) => m.type === 'contact' && m.contact.displayName === 'Lu'],
    ['poll', () => phoneMsg({ pollCreationMessage: { name: 'When?', options: [{ optionName: 'now' }, { optionName: 'later' }], selectableOptionsCount: 1 } }),
      (m) => m.type === 'poll' && m.poll.options.join() === 'now,later'],
    ['reaction', () => phoneMsg({ reactionMessage: { key: pageKey, text: '🎉', senderTimestampMS: String(Date.now()) } }), (m) => m.type === 'reaction' && m.reaction.key.id === seed.id && m.reaction.key.fromMe],
    ['edit', () => phoneMsg({ protocolMessage: { type: 'MESSAGE_EDIT', key: { remoteJID: group, fromMe: true, ID: own }, editedMessage: { conversation: 'Pia edits' } } }),
      (m) => m.type === 'edit' && m.edit.key.id === own && m.edit.text === 'Pia edits'],
    ['revoke', () => phoneMsg({ protocolMessage: { type: 'REVOKE', key: { remoteJID: group, fromMe: true, ID: own } } }), (m) => m.type === 'revoke' && m.revoke.key.id === own],
    ['reply', () => phoneMsg({ extendedTextMessage: { text: 'Pia replies', contextInfo: { stanzaID: seed.id, participant: member(ANA), quotedMessage: { conversation: 'the page writes' } } } }),
      (m) => m.type === 'text' && m.quoted?.id === seed.id],
  ];
  const received = {};
  for (const [kind, sendIt, check] of fromPhone) {
    const id = await sendIt();
    const m = await waitMessage(page, 'ana', (e) => e.id === id);
    assert.ok(m.isGroup && m.chat === group && m.sender.startsWith(PIA) && check(m), `${kind}: ${JSON.stringify(m).slice(0, 400)}`);
    received[kind] = m;
  }
  const digests = await page.evaluate(async (ms) => Promise.all(ms.map(async (m) => [...new Uint8Array(await crypto.subtle.digest('SHA-256', await window.clients.ana.downloadMedia(m)))]
    .map((b) => b.toString(16).padStart(2, '0')).join(''))), Object.keys(media).map((k) => received[k]));
  assert.deepEqual(digests, Object.keys(media).map((k) => sha(bytes[k])));

  // Votes in the group: Qui votes in the page's poll, the page in Pia's.
  await fakewa.api('POST', `/api/accounts/${QUI}/vote`, { poll: sent.poll.id, options: ['there'] });
  const vote = await waitMessage(page, 'ana', (e) => e.type === 'poll_vote' && e.pollVote.key.id === sent.poll.id);
  assert.ok(vote.sender.startsWith(QUI) && vote.pollVote.selectedOptions?.join() === 'there', JSON.stringify(vote.pollVote));
  const mine = await call('sendMessage', group, { vote: { key: received.poll.key, options: ['later'] } });
  for (const p of [PIA, QUI]) {
    const got = await fakewa.waitInbox(p, (m) => m.id === mine.id);
    assert.deepEqual(got.pollVote, { poll: received.poll.id, options: ['later'] });
  }
  assert.deepEqual(decryptFailures(fakewa), [], 'no message needed a retry receipt');
});
