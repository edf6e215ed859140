// The custom strategy in Baileys' shapes: a store written like the Mongo
// example of Baileys' "Authentication state" docs (one JSON document per
// creds and per `${type}-${id}`, serialised with BufferJSON's replacer and
// reviver) over an in-memory collection that outlives page reloads, and the
// same store without BufferJSON (plain JSON.stringify / JSON.parse).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { proto, BufferJSON } from 'baileys';
import { startStatic, startFakewa, launchBrowser, openPage, pageOptions, waitEvent, events, eventCount, pairByQR, waitMessage, decryptFailures } from '../test-support/e2e.js';

let server, fakewa, browser;

before(async () => {
  [server, fakewa] = await Promise.all([startStatic(), startFakewa()]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await fakewa?.close();
  await server?.close();
});

const PEER = '15550000301';

// The collection lives in node, as JSON text (a document store keeps no JS
// objects): the page reaches it through one exposed function.
function exposeCollection(page, docs) {
  return page.exposeFunction('collectionOp', (op, id, json) => {
    switch (op) {
      case 'replace': docs.set(id, json); return null;
      case 'find': return docs.has(id) ? docs.get(id) : null;
      case 'delete': docs.delete(id); return null;
      default: throw new Error(op);
    }
  });
}

// useMultiFileAuthState's get passes every app-state-sync-key value through
// proto.Message.AppStateSyncKeyData.fromObject (Baileys'
// lib/Utils/use-multi-file-auth-state.js), which keeps only the proto's
// fields. The page gets the message's own fields (what wasmeow reads of an
// object), byte strings in BufferJSON form; stats.syncKeys counts the calls.
function exposeFromObject(page, stats) {
  const ownFields = (v) => {
    if (v instanceof Uint8Array) return { type: 'Buffer', data: Buffer.from(v).toString('base64') };
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map(ownFields);
    return Object.fromEntries(Object.keys(v).map((k) => [k, ownFields(v[k])]));
  };
  return page.exposeFunction('syncKeyFromObject', (json) => {
    stats.syncKeys++;
    return JSON.stringify(ownFields(proto.Message.AppStateSyncKeyData.fromObject(JSON.parse(json, BufferJSON.reviver))));
  });
}

// Installs window.useStore(bufferJSON): the Mongo example's adapter, with
// BufferJSON as Baileys defines it (src/Utils/generics.ts: Buffers and
// Uint8Arrays become {type: 'Buffer', data: base64}, and back) and, as
// useMultiFileAuthState does, app-state-sync-key values read through
// protobuf.js fromObject (exposeFromObject); or plain JSON when bufferJSON
// is false (fromObject would drop keyData stored as {"0": …}: wasmeow
// refuses such a key, coded, docs/AUTHSTATE.md).
function installAdapter(page) {
  return page.evaluate(() => {
    const b64 = (u8) => { let s = ''; for (const b of u8) s += String.fromCharCode(b); return btoa(s); };
    const BufferJSON = {
      replacer: (k, value) => (value instanceof Uint8Array || value?.type === 'Buffer')
        ? { type: 'Buffer', data: b64(value?.data || value) } : value,
      reviver: (_, value) => (typeof value === 'object' && value !== null && value.type === 'Buffer' && typeof value.data === 'string')
        ? Uint8Array.from(atob(value.data), (c) => c.charCodeAt(0)) : value,
    };
    const collection = {
      replaceOne: async ({ _id }, doc) => window.collectionOp('replace', _id, JSON.stringify(doc)),
      findOne: async ({ _id }) => { const j = await window.collectionOp('find', _id, ''); return j === null ? null : JSON.parse(j); },
      deleteOne: async ({ _id }) => window.collectionOp('delete', _id, ''),
    };
    window.useStore = async (bufferJSON) => {
      const replacer = bufferJSON ? BufferJSON.replacer : undefined;
      const reviver = bufferJSON ? BufferJSON.reviver : undefined;
      const writeData = (data, id) => collection.replaceOne({ _id: id }, JSON.parse(JSON.stringify(data, replacer)), { upsert: true });
      const readData = async (id) => {
        const data = JSON.stringify(await collection.findOne({ _id: id }));
        return JSON.parse(data, reviver);
      };
      const removeData = (id) => collection.deleteOne({ _id: id });
      // Baileys' example starts from initAuthCreds(); wasmeow makes the keys
      // itself at pairing, so an empty object does.
      const creds = (await readData('creds')) || {};
      const state = {
        creds,
        keys: {
          get: async (type, ids) => {
            const data = {};
            await Promise.all(ids.map(async (id) => {
              let value = await readData(`${type}-${id}`);
              if (bufferJSON && type === 'app-state-sync-key' && value) {
                value = JSON.parse(await window.syncKeyFromObject(JSON.stringify(value, replacer)), reviver);
              }
              data[id] = value;
            }));
            return data;
          },
          set: async (data) => {
            const tasks = [];
            for (const category of Object.keys(data)) {
              for (const id of Object.keys(data[category])) {
                const value = data[category][id];
                const key = `${category}-${id}`;
                tasks.push(value ? writeData(value, key) : removeData(key));
              }
            }
            await Promise.all(tasks);
          },
        },
      };
      return { state, saveCreds: () => writeData(state.creds, 'creds') };
    };
  });
}

async function openWith(page, name, bufferJSON) {
  await installAdapter(page);
  await page.evaluate(async ([n, bj]) => {
    const { state, saveCreds } = await window.useStore(bj);
    await window.create(n, { logLevel: 'error', auth: { strategy: 'custom', clientId: n, state, saveCreds } });
  }, [name, bufferJSON]);
}

async function talk(page, name, phone, tag) {
  const text = `to the page ${tag}`;
  await fakewa.api('POST', `/api/accounts/${phone}/send`, { to: await page.evaluate((n) => window.clients[n].getCreds().me, name), text });
  await waitMessage(page, name, (m) => m.text === text);
  const back = `from the page ${tag}`;
  await page.evaluate(([n, to, t]) => window.clients[n].sendText(to, t), [name, `${phone}@s.whatsapp.net`, back]);
  await fakewa.waitInbox(phone, (m) => m.text === back);
}

for (const bufferJSON of [true, false]) {
  const label = bufferJSON ? 'with BufferJSON' : 'with plain JSON (no BufferJSON)';
  test(`a Mongo-style Baileys adapter ${label} holds a session through pairing, messages, a reload and logout`, async () => {
    const me = bufferJSON ? '15550000311' : '15550000312';
    await fakewa.api('POST', '/api/accounts', { phone: me, pushName: 'Store' }).catch(() => {});
    await fakewa.api('POST', '/api/accounts', { phone: PEER, pushName: 'Peer' }).catch(() => {});
    const docs = new Map();
    const stats = { syncKeys: 0 };
    const ctx = await browser.newContext();
    const page = await openPage(ctx, server.url, pageOptions(fakewa));
    await exposeCollection(page, docs);
    await exposeFromObject(page, stats);
    const name = bufferJSON ? 'bj' : 'plain';
    await openWith(page, name, bufferJSON);
    await pairByQR(fakewa, page, name, me);
    await talk(page, name, PEER, '1');

    // What the store holds: Baileys' types, ids and shapes.
    const ids = [...docs.keys()];
    const creds = JSON.parse(docs.get('creds'));
    assert.equal(creds.registered, true);
    assert.match(creds.me.id, new RegExp(`^${me}:\\d+@s\\.whatsapp\\.net$`));
    assert.ok(creds.noiseKey && creds.signedIdentityKey && creds.signedPreKey.keyPair && creds.account && typeof creds.advSecretKey === 'string', docs.get('creds'));
    if (bufferJSON) assert.deepEqual(Object.keys(creds.noiseKey.public), ['type', 'data']);
    else assert.equal(Object.keys(creds.noiseKey.public).length, 32, 'a Uint8Array as JSON.stringify writes it');
    assert.ok(creds.firstUnuploadedPreKeyId > 1 && creds.nextPreKeyId >= creds.firstUnuploadedPreKeyId, `prekey counters ${creds.firstUnuploadedPreKeyId} ${creds.nextPreKeyId}`);
    assert.ok(ids.some((id) => /^pre-key-\d+$/.test(id)), 'pre-key-<decimal id>');
    assert.ok(ids.some((id) => /^session-\d+(_1)?\.\d+$/.test(id)), `session-<user>.<device>: ${ids.filter((i) => i.startsWith('session'))}`);
    assert.ok(ids.some((id) => /^identity-key-\d+(_1)?\.\d+$/.test(id)), 'identity-key-<user>.<device>');
    assert.ok(ids.some((id) => id.startsWith('wasmeow-ids-')), 'the id lists');
    assert.ok(!ids.some((id) => /[\x00-\x1f]/.test(id)), 'no control bytes in ids');
    const preKey = JSON.parse(docs.get(ids.find((id) => /^pre-key-\d+$/.test(id))));
    assert.ok(preKey.public && preKey.private, 'pre-key is {public, private}');
    const known = /^(creds|pre-key|session|sender-key|app-state-sync-key|app-state-sync-version|lid-mapping|tctoken|identity-key|wasmeow-[a-z-]+)-/;
    assert.deepEqual(ids.filter((id) => id !== 'creds' && !known.test(id)), [], 'every document is of a Baileys type or a wasmeow-… one');
    // App state: Baileys' LTHash state carries the MACs of its collection.
    const versions = ids.filter((id) => id.startsWith('app-state-sync-version-'));
    for (const id of versions) {
      const lt = JSON.parse(docs.get(id));
      assert.ok(Number.isInteger(lt.version) && lt.hash && typeof lt.indexValueMap === 'object', docs.get(id).slice(0, 200));
    }
    if (ids.some((id) => id.startsWith('wasmeow-app-state-mac-patch-'))) {
      assert.ok(versions.some((id) => Object.keys(JSON.parse(docs.get(id)).indexValueMap).length > 0), 'some indexValueMap holds MACs');
    }
    console.log(`${label}: ${ids.length} documents; app-state versions ${versions.map((id) => `${id.slice(23)}:${Object.keys(JSON.parse(docs.get(id)).indexValueMap).length}`).join(' ') || 'none'}`);
    assert.equal(await page.evaluate(async () => (await indexedDB.databases()).length), 0, 'nothing in IndexedDB');

    // A reload: the page starts again from the collection alone.
    await page.reload();
    await page.waitForFunction(() => window.harnessReady === true);
    await openWith(page, name, bufferJSON);
    await page.evaluate((n) => window.clients[n].connect(), name);
    await waitEvent(page, name, 'ready');
    assert.ok(!(await events(page, name)).includes('qr'), 'no QR after the reload');
    await talk(page, name, PEER, '2');
    assert.deepEqual(decryptFailures(fakewa), [], 'no retry receipt, no decryption failure');
    // An app-state patch from the phone: the page decrypts it with the sync
    // key, read back from the store (through fromObject with BufferJSON).
    const from = await eventCount(page, name);
    await fakewa.api('POST', `/api/accounts/${me}/chat-state`, { chat: PEER, muted: true });
    await waitEvent(page, name, 'chats.update', { from });
    if (bufferJSON) assert.ok(stats.syncKeys > 0, 'app-state sync keys were read back through fromObject');
    console.log(`${label}: ${stats.syncKeys} sync keys read through fromObject`);

    // Logout empties the store; the creds are saved empty.
    await page.evaluate((n) => window.clients[n].logout(), name);
    await waitEvent(page, name, 'logged_out');
    assert.deepEqual([...docs.keys()], ['creds']);
    assert.equal(docs.get('creds'), '{}');
    await ctx.close();
  });
}

test('a store of the first custom layout ({device} creds, wasmeow table names) keeps working in that layout', async () => {
  const me = '15550000313';
  await fakewa.api('POST', '/api/accounts', { phone: me, pushName: 'Legacy' });
  await fakewa.api('POST', '/api/accounts', { phone: PEER, pushName: 'Peer' }).catch(() => {});
  const ctx = await browser.newContext();
  const page = await openPage(ctx, server.url, pageOptions(fakewa));
  // A paired session, moved into a Map store in the first layout (the
  // snapshot's tables as types, its keys as ids, its values as bytes, a
  // wasmeow-index per table, the device record in creds), as builds before
  // the Baileys layout wrote it.
  await page.evaluate(() => window.create('src', { logLevel: 'error', auth: { strategy: 'local', clientId: 'legacy-src' } }));
  await pairByQR(fakewa, page, 'src', me);
  await page.evaluate(async () => {
    const snap = await window.clients.src.exportSession();
    await window.clients.src.destroy();
    const json = await new Response(new Blob([snap]).stream().pipeThrough(new DecompressionStream('gzip'))).text();
    const { tables } = JSON.parse(json);
    const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const text = (b64) => new TextDecoder().decode(bytes(b64));
    const data = new Map();
    const creds = { device: {} };
    for (const [table, records] of Object.entries(tables)) {
      for (const [k, v] of records) {
        if (table === 'device') creds.device[text(k)] = bytes(v);
        else data.set(`${table}/${text(k)}`, bytes(v));
      }
      if (table !== 'device') data.set(`wasmeow-index/${table}`, new TextEncoder().encode(JSON.stringify(records.map(([k]) => text(k)))));
    }
    window.legacy = { data, creds };
    window.legacy.keys = {
      async get(type, ids) { const o = {}; for (const id of ids) { const v = data.get(`${type}/${id}`); if (v) o[id] = v; } return o; },
      async set(d) { for (const t in d) for (const id in d[t]) { if (d[t][id] === null) data.delete(`${t}/${id}`); else data.set(`${t}/${id}`, d[t][id]); } },
      async clear() { data.clear(); },
    };
    window.legacy.credsStore = { load: async () => window.legacy.creds, save: async (c) => { window.legacy.creds = c; } };
    await window.create('old', { logLevel: 'error', auth: { strategy: 'custom', clientId: 'old', keys: window.legacy.keys, creds: window.legacy.credsStore } });
  });
  await page.evaluate(() => window.clients.old.connect());
  await waitEvent(page, 'old', 'ready');
  assert.ok(!(await events(page, 'old')).includes('qr'), 'no QR');
  await talk(page, 'old', PEER, 'legacy');
  const types = await page.evaluate(() => [...new Set([...window.legacy.data.keys()].map((k) => k.split('/')[0]))]);
  assert.ok(types.includes('prekey') && types.includes('session') && types.includes('wasmeow-index'), `types: ${types}`);
  assert.ok(!types.some((t) => ['pre-key', 'wasmeow-ids'].includes(t)), `no Baileys-layout types mixed in: ${types}`);
  assert.deepEqual(await page.evaluate(() => Object.keys(window.legacy.creds)), ['device']);
  await ctx.close();
});
