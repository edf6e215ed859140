// Package tracetest is the differential test of wasmeow's stores against
// whatsmeow's own sqlstore: cmd/tracegen records seeded random sequences of
// store calls made on sqlstore, with their results, and the replayer (Check,
// Replay) makes the same calls on another store and fails at the first result
// that differs.
//
// # Trace format (version 1)
//
// A trace is a file of JSON lines. Line 1 is the header:
//
//	{"format":"wasmeow-store-trace","version":1,"seed":1,"calls":2000,
//	 "reference":"go.mau.fi/whatsmeow@… store/sqlstore, sqlite3 (WAL)",
//	 "slots":[{"jid":"491700000001:10@s.whatsapp.net","lid":"…@lid"},…]}
//
// Every further line is one call:
//
//		{"n":17,"op":"PutSession","dev":0,"args":{"addr":"491500010003:1","session":"a1b2…"},"res":null}
//		{"n":18,"op":"GetContact","dev":1,"args":{"jid":"…"},"res":{"Found":true,…}}
//		{"n":19,"op":"PutAppStateMutationMACs","dev":0,"args":{…},"res":null,"err":"FOREIGN KEY constraint failed"}
//
//	  - op is a method of one of the interfaces in whatsmeow's store.AllStores,
//	    or a container call (NewDevice, PutDevice, GetFirstDevice, GetDevice,
//	    GetAllDevices, DeleteDevice), or Reopen: close the container and open it
//	    again on the same data, then load every saved slot's device by its JID.
//	  - dev is the device slot the call runs on (-1 for container calls that
//	    need none). Several devices live side by side; the LID map is global.
//	  - args are the method's arguments; byte strings are hex, JIDs strings.
//	  - res is the canonical result: maps become sorted lists or JSON objects
//	    (sorted keys), times become Unix seconds (MutedForever is -1), absent
//	    values are null. Two correct stores produce the same bytes.
//	  - err is the store's error text, or absent. Only its presence is
//	    compared: error texts differ between stores by nature.
//
// DoDecryptionTxn carries its fn as a list of steps (decrypt-shaped calls:
// get session, is-trusted identity, put identity, put session, put and clear
// the buffered event, sometimes a prekey or a sender key) and a "fail" flag:
// fn returns an error after the steps, and nothing it wrote may remain. A
// failing step ends fn with that error. The result lists each step's result.
//
// # Determinism
//
// The seed fixes every argument. Where whatsmeow draws randomness or reads
// the clock, the trace records what can be compared, and says so:
//
//   - NewDevice: the fresh device's keys are random; the trace records their
//     shape (ID unset, not initialized, distinct keys, signed prekey ID 1 with
//     a valid signature by the identity key, 32-byte adv secret), then
//     replaces all key material with seeded bytes from args, so every later
//     device read is compared byte for byte.
//   - GetOrGenPreKeys, GenOnePreKey, GetPreKey: prekey key pairs are random;
//     the trace records the key ID and "known": whether the private key is the
//     one this slot was handed for that ID earlier in the run. A store that
//     returns another key for a stored ID is caught this way.
//   - Buffered events: the insert time is the clock at insertion; the trace
//     records only whether it is recent (within a day) and compares the
//     plaintext and the server time exactly. DeleteOldBufferedHashes cannot
//     age an entry through the interface, so a trace checks that it keeps
//     recent events.
//   - GetFirstDevice: which device comes first among several is SQL row
//     order; the trace records the count and, with exactly one device, the
//     device itself, else only that the one returned is among them.
//
// The key space keeps results well defined where sqlstore's answer would
// depend on row order or on its caches going stale: PN<->LID pairs never
// change once made (sqlstore's LID cache keeps a stale pair after a remap),
// app-state sync key timestamps never repeat (latest key), privacy token
// timestamps never repeat, a message secret is stored under one chat/sender
// form and looked up under either, and GetManyLIDsForPNs gets PNs without a
// device part (sqlstore keeps the device from its cache but drops it from the
// database).
//
// Behaviour of sqlstore that the traces do pin down, and another store must
// copy: foreign keys (a device's data goes with it on DeleteDevice, mutation
// MACs need their app-state version row and go with it; privacy tokens and
// the LID map are not tied to a device), duplicate buffered events and
// duplicate MACs are errors (the whole batch fails), MigratePNToLID runs once
// per PN per device object, PutDevice over an existing JID only updates LID,
// platform, names and the LID migration time, message secrets keep the first
// value, and PutPushName/PutBusinessName report the previous name.
package tracetest
