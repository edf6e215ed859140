// Package fakewa is an offline double of the WhatsApp multi-device server.
//
// It speaks the Noise handshake, framing and binary nodes that an unmodified
// whatsmeow client expects, keeps accounts each with a simulated primary
// phone, pairs companions by QR or phone-number code, keeps the prekey
// registry, routes messages with an offline queue, and offers a JSON control
// API for browser tests. State lives in memory for the life of the Server.
//
// The package is native only (it listens on sockets); under js/wasm it is empty.
//
// Media hosts (any Host header; see docs/SERVICE.md "Media hosts"):
//
//	POST /mms/{type}/{token}?auth=&token=   an encrypted upload -> {"url", "direct_path"}
//	GET  /v/...                             a blob by its direct path
//
// Control API (JSON bodies; errors are {"error": "..."} with a 4xx/5xx status):
//
//	GET  /api/info                          {"wsURL", "rootKey"}
//	POST /api/accounts                      {"phone", "pushName"} -> account
//	GET  /api/accounts                      accounts with their devices (jid, lid, platform, platformType, clientType, online, queued)
//	POST /api/accounts/{phone}/scan         {"qr"} -> {"device"}
//	POST /api/accounts/{phone}/link-code    {"code"} -> {"device"}
//	POST /api/accounts/{phone}/send         {"to", "text"} -> {"id"}
//	GET  /api/accounts/{phone}/messages     what the phone received (media: type, fields, decrypted data or error; raw: the message as protobuf JSON)
//	POST /api/accounts/{phone}/send-message {"to", "message": a waE2E.Message as protobuf JSON} -> {"id"}: any type (phonesend.go; to a user or a group)
//	POST /api/accounts/{phone}/read {"ids", "type": read|played|read-self|played-self} -> {"receipts"}: the phone reads or plays messages it received (phonereceipts.go)
//	POST /api/faults/lose-history-blob {"syncType"} -> {}: the next history blob of that type a phone uploads answers 404; a companion asking again gets a new one (historyretry.go)
//	POST /api/accounts/{phone}/vote {"poll": id, "options": [names]} -> {"id"}: the phone votes in a poll it sent or received (phonepolls.go); votes it receives are in messages' pollVote
//	POST /api/accounts/{phone}/send-media   {"to", "type", "data" (base64), "mimetype", "caption", "fileName", "width", "height", "seconds", "ptt"} -> {"id", "directPath"}
//	POST /api/accounts/{phone}/contacts     {"contacts": [{"phone", "firstName", "fullName"}]} -> {}: the phone saves contacts (app state)
//	POST /api/accounts/{phone}/chat-state   {"chat", "muted", "pinned", "archived"} -> {}: the phone changes a chat (app state)
//	GET  /api/accounts/{phone}/app-state    {"critical_block": N, ...}: each collection's version
//	GET  /api/media                         blobs on the media host [{"directPath", "mmsType", "size", "fail"}]
//	POST /api/media/fail                    {"directPath"} or {"mmsType"}, "mode": "404"|"403"|"410"|"500"|"corrupt"|"" -> {}
//	POST /api/accounts/{phone}/tokens       {"to", "notify"} -> {}: the account issues "to" a privacy token
//	GET  /api/accounts/{phone}/tokens       {"issued", "held"}: [{"from", "to", "t"}], newest token of each pair
//	POST /api/accounts/{phone}/groups       {"subject", "participants"} -> group: the phone creates a group
//	GET  /api/accounts/{phone}/groups       groups the account is in [{"jid", "subject", "participants": [{"jid", "lid", "admin"}]}]
//	POST /api/accounts/{phone}/groups/{group}/participants  {"action", "participants"} -> [{"jid", "error"}]
//	POST /api/accounts/{phone}/faults/forget-sender-keys    {} -> {}: the phone loses its sender keys (it then asks again)
//	POST /api/accounts/{phone}/faults/forget-sessions       {} -> {}: the phone loses its 1:1 sessions (it then asks again)
//	(send with "to" a group JID: the phone writes to the group; its messages list a group message with the group as chat)
//	POST /api/accounts/{phone}/picture      {"data": base64 JPEG, empty removes} -> {"id"}: the account's profile picture
//	POST /api/devices/{jid}/logout          {}
//	POST /api/devices/{jid}/cut             {"afterFrames"} -> {}
//	GET  /api/connections                   live sockets [{"id", "state", "device", "version", "dict"}], paired or not
//	POST /api/connections/{id}/cut          {"afterFrames"} -> {}; id "next" arms the next socket to open
//	POST /api/faults/lose-pair-confirmation -> {}; the next pairing loses the companion's answer (device not registered)
//	POST /api/faults/fail-prekey-fetch      {"count"} (default 1) -> {}; the next count prekey fetches get a 500 error
//	GET  /api/settings                      behaviour switches {"minVersion", "allowOutdated", "pnAddressing", "noTCTokenCheck", "mediaCORS"}
//	POST /api/settings                      the same fields, each optional -> the settings now in force
//
// A cut drops the socket after afterFrames more encrypted server frames
// (handshake frames not counted), or at once if afterFrames <= 0; an armed
// "next" cut with afterFrames <= 0 drops the socket as soon as it opens.
//
// A token issued with notify false reaches nobody: the holder's devices lack
// it, and their next 1:1 message to the issuer gets ack error 463 (unless
// noTCTokenCheck). With notify true it is delivered as an issuance iq's
// would be.
package fakewa
