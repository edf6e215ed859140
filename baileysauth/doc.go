// Package baileysauth is Baileys' auth state in Go: its AuthenticationCreds
// (Creds) and the JSON forms its adapters give byte strings (Bytes), mapped
// to and from whatsmeow's store.Device. It has no JS dependency, so native
// converters and the wasm build share it.
package baileysauth
