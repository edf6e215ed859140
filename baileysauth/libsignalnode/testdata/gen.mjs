// Writes node-records.json: Signal records made by the real libsignal-node
// and Baileys group ciphers (the versions web/package.json pins), with the
// ciphertexts each side sends next, for the Go tests of libsignalnode.
// Run from the repository root after `make deps`:
//   node baileysauth/libsignalnode/testdata/gen.mjs
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';

const require = createRequire(new URL('../../../web/package.json', import.meta.url));
const libsignal = require('libsignal');
const group = await import(require.resolve('baileys/lib/Signal/Group/index.js'));

const b64 = (b) => Buffer.from(b).toString('base64');

// A party with libsignal-node storage as Baileys keeps it: records
// serialized (session: the JSON object; sender keys: the UTF-8 JSON bytes).
function party(name, regId) {
  const identity = libsignal.keyhelper.generateIdentityKeyPair();
  const signed = libsignal.keyhelper.generateSignedPreKey(identity, 1);
  const preKeys = new Map();
  const sessions = new Map();
  const senderKeys = new Map();
  const storage = {
    loadSession: async (id) => (sessions.has(id) ? libsignal.SessionRecord.deserialize(sessions.get(id)) : undefined),
    storeSession: async (id, rec) => { sessions.set(id, JSON.parse(JSON.stringify(rec.serialize()))); },
    isTrustedIdentity: () => true,
    loadPreKey: async (id) => preKeys.get(id)?.keyPair,
    removePreKey: async (id) => { preKeys.delete(id); },
    loadSignedPreKey: async () => signed.keyPair,
    getOurRegistrationId: () => regId,
    getOurIdentity: () => identity,
    loadSenderKey: async (n) => (senderKeys.has(n.toString()) ? group.SenderKeyRecord.deserialize(senderKeys.get(n.toString())) : new group.SenderKeyRecord()),
    storeSenderKey: async (n, rec) => { senderKeys.set(n.toString(), Buffer.from(JSON.stringify(rec.serialize()), 'utf-8')); },
  };
  return {
    name, regId, identity, signed, preKeys, sessions, senderKeys, storage,
    addr: new libsignal.ProtocolAddress(name, 1),
    bundle(preKeyId) {
      const pk = libsignal.keyhelper.generatePreKey(preKeyId);
      preKeys.set(preKeyId, pk);
      return {
        identityKey: identity.pubKey, registrationId: regId,
        signedPreKey: { keyId: signed.keyId, publicKey: signed.keyPair.pubKey, signature: signed.signature },
        preKey: { keyId: preKeyId, publicKey: pk.keyPair.pubKey },
      };
    },
    keys() {
      return {
        identityPub: b64(identity.pubKey.subarray(1)), identityPriv: b64(identity.privKey), registrationId: regId,
        signedPreKey: { id: signed.keyId, pub: b64(signed.keyPair.pubKey.subarray(1)), priv: b64(signed.keyPair.privKey), signature: b64(signed.signature) },
        preKeys: [...preKeys.values()].map((p) => ({ id: p.keyId, pub: b64(p.keyPair.pubKey.subarray(1)), priv: b64(p.keyPair.privKey) })),
      };
    },
  };
}

const cipher = (from, to) => new libsignal.SessionCipher(from.storage, to.addr);
const send = async (from, to, text) => {
  const { type, body } = await cipher(from, to).encrypt(Buffer.from(text));
  return { type: type === 3 ? 'pkmsg' : 'msg', body: b64(body), text };
};
const recv = async (at, from, m) => {
  const c = cipher(at, from);
  const body = Buffer.from(m.body, 'base64');
  const pt = m.type === 'pkmsg' ? await c.decryptPreKeyWhisperMessage(body) : await c.decryptWhisperMessage(body);
  if (pt.toString() !== m.text) throw new Error(`decrypted ${pt} instead of ${m.text}`);
};

const alice = party('alice', 1111);
const bob = party('bob', 2222);
const carol = party('carol', 3333);

await new libsignal.SessionBuilder(alice.storage, bob.addr).initOutgoing(bob.bundle(31));
await recv(bob, alice, await send(alice, bob, 'a1'));
await recv(alice, bob, await send(bob, alice, 'b1'));
const a2 = await send(alice, bob, 'a2'); // Bob skips it: a message key stays in his chain
await recv(bob, alice, await send(alice, bob, 'a3'));
await recv(alice, bob, await send(bob, alice, 'b2'));
const bobRecord = bob.sessions.get('alice.1');
const aliceRecord = alice.sessions.get('bob.1');
const a4 = await send(alice, bob, 'a4');
const b3 = await send(bob, alice, 'b3');
await recv(bob, alice, a2);
await recv(bob, alice, a4);
await recv(alice, bob, b3);

// Carol starts a session and gets no answer: her record holds the pending prekey.
await new libsignal.SessionBuilder(carol.storage, bob.addr).initOutgoing(bob.bundle(32));
const c1 = await send(carol, bob, 'c1');
const carolRecord = carol.sessions.get('bob.1');

// Group: Alice's sender key, distributed to Bob, who skips g2.
const gname = (p) => new group.SenderKeyName('120363000000000001@g.us', p.addr);
const skdm = await new group.GroupSessionBuilder(alice.storage).create(gname(alice));
await new group.GroupSessionBuilder(bob.storage).process(gname(alice), new group.SenderKeyDistributionMessage(null, null, null, null, skdm.serialize()));
const gsend = async (text) => ({ text, body: b64(await new group.GroupCipher(alice.storage, gname(alice)).encrypt(Buffer.from(text))) });
const grecv = async (m) => {
  const pt = await new group.GroupCipher(bob.storage, gname(alice)).decrypt(Buffer.from(m.body, 'base64'));
  if (pt.toString() !== m.text) throw new Error(`decrypted ${pt} instead of ${m.text}`);
};
await grecv(await gsend('g1'));
const g2 = await gsend('g2');
await grecv(await gsend('g3'));
const bobSenderKey = bob.senderKeys.get(gname(alice).toString());
const aliceSenderKey = alice.senderKeys.get(gname(alice).toString());
const g4 = await gsend('g4');
// (Baileys itself cannot use the key it kept for g2: its records come back
// from JSON with that seed as {type, data}, which deriveSecrets refuses.
// whatsmeow can, once converted.)
await grecv(g4);

writeFileSync(new URL('node-records.json', import.meta.url), JSON.stringify({
  generatedBy: 'baileysauth/libsignalnode/testdata/gen.mjs (libsignal ' + require('libsignal/package.json').version + ', baileys ' + require('baileys/package.json').version + ')',
  alice: alice.keys(), bob: bob.keys(), carol: carol.keys(),
  bobRecord, aliceRecord, carolRecord,
  toBob: [a2, a4], toAlice: [b3], carolToBob: c1,
  bobSenderKey: b64(bobSenderKey), aliceSenderKey: b64(aliceSenderKey), groupToBob: [g2, g4],
}, null, 1) + '\n');
