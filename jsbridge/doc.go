// Package jsbridge is the glue between Go (compiled to js/wasm) and the page:
// Go functions exposed as JS functions returning Promises, Go awaiting JS
// promises, bytes as Uint8Array, errors as JS Errors with a code, an event
// emitter, and bounded, protected calls into a user's store objects
// (CallStore; kv/jskv builds the custom strategy's kv.Backend on them).
//
// A panic in any goroutine ends the whole Go program in wasm, after which
// every call from the page fails, so every entry point here recovers.
package jsbridge
