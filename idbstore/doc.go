// Package idbstore implements whatsmeow's stores (store.AllStores and
// store.DeviceContainer) once, on the kv.Backend contract, with the results of
// whatsmeow's sqlstore, which is the reference for every method.
//
// # Naming a session
//
// One Container = one kv.Backend = one IndexedDB database per clientId: the
// JS layer names the database "<dbName>:<clientId>" and opens a Container on
// it. That database holds the session's device(s): several devices can live
// side by side in one container, their records keyed by the device JID first
// (sqlstore's our_jid), and GetFirstDevice picks the oldest, as sqlstore does.
// BackendTables lists the kv tables (IndexedDB object stores) a backend
// must have; DumpTables those a snapshot may hold. ExportRows reads every
// record of a device in sqlstore's row shapes, for converters (sessionconv):
// whatsmeow's interfaces can write them but not list them. Callers ask HasDevice
// whether a backend holds a session rather than reading tables themselves.
//
// # Layout versions
//
// The tables and their encodings form a layout with a version, stored in the
// backend (table layout). New runs the numbered upgrade steps (layout.go)
// from the stored version on, each one commit together with its new version,
// as sqlstore's upgrades do for its schema. Step 1 moves the per-contact
// records written before contacts were bucketed (table contact) into their
// buckets and deletes them. testdata/layouts holds a database written by
// each earlier layout, made by testdata/layouts/gen at that commit; the
// tests open each and find every record.
//
// # Speed and durability
//
// Reads are answered from memory after the first: every record read or
// written is cached per container, and the cache never evicts, so it is always
// the newest view (and a reopened container simply reads the backend again).
// Writes update that view at once and are queued; one committer goroutine
// commits everything queued as ONE Backend.Commit, then the next batch (group
// commit). Flush waits until what was written before it is durable; the JS
// layer installs it as the websocket write barrier so that no frame (a receipt,
// an ack) leaves before the state it depends on is committed.
//
// DoDecryptionTxn and multi-record methods collect their writes and enqueue
// them as one unit that never splits across commits; if fn fails nothing of
// it lands or becomes visible.
//
// If a Commit fails, the error is sticky: that batch and everything queued
// after it are dropped, later writes and Flush return the error (naming the
// tables), and reads keep answering from memory, which still shows the writes
// that were never made durable. Close and reopen the container to get back to
// what is durable.
//
// # Records
//
// Values are a format version byte followed by a compact binary encoding; a
// record that fails to decode gives an error naming the table and key. Keys
// are the components of sqlstore's primary keys joined by NUL, escaped to
// valid UTF-8 (IndexedDB keys are JS strings).
//
// Three tables are not one record per sqlstore row, because IndexedDB spends
// a large fraction of a millisecond per put even inside one transaction, and
// their access pattern allows it: app-state mutation MACs are one record per
// (device, collection, version) patch, looked up through an index decoded in
// memory; contacts live in 64 hash buckets per device; and
// MarkPreKeysAsUploaded writes one upload mark per device instead of
// rewriting every prekey. A device's sessions, identities and sender keys are
// loaded with one scan per table when the device is opened, so reads after a
// page load are memory reads.
package idbstore
