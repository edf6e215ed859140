//go:build !js

// Package sessionconv moves one whatsmeow device between whatsmeow's sqlstore
// (a sqlite database), a Baileys auth state (baileys.go: its creds and key
// store, a useMultiFileAuthState folder) and a wasmeow session snapshot
// (docs/SNAPSHOT.md), so a linked device changes homes without a new QR and
// its Signal sessions go on where they were (docs/AUTHSTATE.md).
// cmd/wasmeow-session is its command line; the snapshot and Baileys halves
// also build for js/wasm (the page's importBaileysSession).
//
// Every record is written through whatsmeow's store interfaces of the
// target (sqlstore's SQLStore, idbstore's Store), the reference semantics of
// each table. The interfaces cannot list what a store holds, so the source
// is read by its own means: SQL queries on sqlstore's schema, and
// idbstore.ExportRows on a snapshot restored into memory. Two kinds of
// record cannot be written through the interfaces as they were stored and
// go in with a store-specific insert: prekeys (the interface only generates
// new ones; the device must keep the keys the server hands out, with their
// uploaded flags) and buffered events (PutBufferedEvent stamps the insert
// time now; it is kept, so their 14-day expiry does not restart).
//
// A snapshot is restored exactly as the page's importSession restores one
// (snapshot.DecodeSession, Restore into an empty backend, idbstore.New) and
// made as its exportSession makes one (snapshot.Capture of
// idbstore.DumpTables after a flush).
package sessionconv
