// Package libsignalnode converts the Signal records Baileys keeps (written by
// libsignal-node, npm "libsignal" 6.0.0 as Baileys 7.0.0-rc14 depends on it,
// and Baileys' own lib/Signal/Group sender keys) to the records whatsmeow
// keeps (go.mau.fi/libsignal v0.2.1 structures, serialized as whatsmeow's
// store does), and back, so a device moved between the two continues its
// conversations without a retry receipt.
//
// The formats, as read in the sources:
//
//   - libsignal-node src/session_record.js: a session record is the JSON
//     {_sessions: {<base64 base key>: entry}, version: "v1"}; an entry holds
//     registrationId (the remote's), currentRatchet {ephemeralKeyPair
//     {pubKey, privKey}, lastRemoteEphemeralKey, previousCounter, rootKey},
//     indexInfo {baseKey, baseKeyType 1 ours / 2 theirs, closed (-1 while
//     open, else ms), used, created, remoteIdentityKey}, _chains keyed by the
//     base64 ratchet key {chainKey {counter, key (absent once closed)},
//     chainType 1 sending / 2 receiving, messageKeys {counter: seed}} and
//     pendingPreKey {signedKeyId, baseKey, preKeyId?}. Keys are base64
//     strings, public keys with the 0x05 type byte.
//   - src/session_cipher.js: a chain's counter is the index of the last
//     message key derived (-1 for a new chain) and its key derives the next;
//     a stored message key is the HMAC seed, expanded with HKDF
//     "WhisperMessageKeys" when used. go.mau.fi/libsignal's chain index is
//     the index of the next message key (so index = counter + 1) and it
//     stores message keys expanded (cipher key, MAC key, IV), from which the
//     seed cannot be recovered.
//   - go.mau.fi/libsignal state/record: a session record is the current
//     state plus up to 40 previous states (newest first); a state has one
//     sender chain and receiver chains (oldest first, at most 5 kept when a
//     new one is added).
//   - Baileys lib/Signal/Group/sender-key-state.js: a sender key record is a
//     JSON array of states, oldest first, {senderKeyId, senderChainKey
//     {iteration, seed}, senderSigningKey {public, private}, senderMessageKeys
//     [{iteration, seed}]}, stored as the bytes of that JSON (Buffers in
//     Node's {type: "Buffer", data: [...]} form). go.mau.fi/libsignal keeps
//     the states newest first and each message key with its seed.
//
// What a format cannot hold is left out and named in the returned Dropped
// list; the peer's retry receipt covers it.
package libsignalnode
