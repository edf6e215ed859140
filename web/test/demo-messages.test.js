// The demo page's chat model (web/demo/messages.js), without a browser:
// what each message type shows, updates applied to the message they name,
// and receipt ticks that never go down.
import test from 'node:test';
import assert from 'node:assert/strict';
import { fromEvent, applyUpdate, raise, ticks, label } from '../demo/messages.js';

const ev = (fields) => ({ id: 'X', sender: 'a@s.whatsapp.net', fromMe: false, time: 1, text: '', ...fields });

test('each type shows its kind and details', () => {
  const loc = fromEvent(ev({ type: 'location', location: { degreesLatitude: 48.8584, degreesLongitude: 2.2945, name: 'Eiffel Tower' } }));
  assert.equal(label(loc), '📍 Location');
  assert.equal(loc.detail, 'Eiffel Tower · 48.8584, 2.2945');
  const poll = fromEvent(ev({ type: 'poll', poll: { name: 'Lunch?', options: ['pizza', 'salad'], selectableCount: 1 } }));
  assert.deepEqual([poll.detail, poll.options], ['Lunch?', ['pizza', 'salad']]);
  const img = fromEvent(ev({ type: 'image', caption: 'hi', media: { type: 'image', width: 4, height: 2 } }));
  assert.deepEqual([label(img), img.caption, img.media.width], ['📷 Image', 'hi', 4]);
  assert.equal(fromEvent(ev({ type: 'contacts', contacts: [{ displayName: 'A' }, { displayName: 'B' }] })).detail, 'A, B');
  const odd = fromEvent(ev({ type: 'something_new', raw: { buttonsMessage: {} } }));
  assert.deepEqual([odd.kind, odd.detail], ['unknown', 'buttonsMessage']);
  const mine = fromEvent(ev({ type: 'text', text: 'hello', fromMe: true }));
  assert.deepEqual([label(mine), mine.status, mine.text], ['', 'sent', 'hello']);
  for (const type of ['reaction', 'edit', 'revoke']) assert.equal(fromEvent(ev({ type })), null, type);
});

test('reactions, edits and revokes change the message they name', () => {
  const list = [fromEvent(ev({ id: 'A', type: 'text', text: 'first' })), fromEvent(ev({ id: 'B', type: 'text', text: 'second' }))];
  const key = (id) => ({ id, fromMe: false, remoteJid: 'a@s.whatsapp.net' });
  assert.deepEqual(applyUpdate(list, ev({ type: 'reaction', reaction: { key: key('A'), text: '👍' } })), { what: 'reacted 👍 (A)', changed: true });
  assert.deepEqual([...list[0].reactions.values()], ['👍']);
  applyUpdate(list, ev({ type: 'reaction', reaction: { key: key('A'), text: '' } }));
  assert.equal(list[0].reactions.size, 0, "an empty reaction removes the sender's");
  applyUpdate(list, ev({ type: 'edit', edit: { key: key('B'), text: 'second, edited' } }));
  assert.deepEqual([list[1].text, list[1].edited], ['second, edited', true]);
  applyUpdate(list, ev({ type: 'revoke', revoke: { key: key('B') } }));
  assert.deepEqual([list[1].deleted, list[1].text, label(list[1])], [true, '', '🚫 This message was deleted']);
  assert.equal(applyUpdate(list, ev({ type: 'revoke', revoke: { key: key('Z') } })).changed, false, 'an unknown target changes nothing');
});

test('receipt ticks only go up', () => {
  assert.equal(raise('sent', 'delivered'), 'delivered');
  assert.equal(raise('read', 'delivered'), 'read', 'a late delivery receipt keeps read');
  assert.equal(raise(undefined, 'read'), 'read');
  assert.deepEqual(['sent', 'delivered', 'read'].map(ticks), ['✓', '✓✓', '✓✓']);
});
