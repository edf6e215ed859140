// Package jsbridge is the glue between Go (compiled to js/wasm) and the page:
// Go functions exposed as JS functions returning Promises, Go awaiting JS
// promises, bytes as Uint8Array, errors as JS Errors with a code, an event
// emitter, and a kv.Backend over a user's Baileys-shaped JS key store.
//
// A panic in any goroutine ends the whole Go program in wasm, after which
// every call from the page fails, so every entry point here recovers.
package jsbridge
