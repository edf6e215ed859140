// Module wsshim stands in for github.com/coder/websocket (through a replace in
// the main go.mod) so that whatsmeow builds for js/wasm: coder/websocket's js
// build lacks DialOptions.HTTPClient and HTTPHeader, which whatsmeow sets.
module github.com/coder/websocket

go 1.26

require nhooyr.io/websocket v1.8.17
