package core

// The events a client emits: one struct per event, the single source of its
// payload. The binding hands each to the page as the JSON of the struct
// (its json tags are the page's field names), the error event as a JS
// Error. web/test/schema.test.js checks the names and reasons against
// wasmeow.d.ts.

// Event is one event for the page.
type Event interface {
	// EventName is the name the page listens to.
	EventName() string
}

// QR is a code to show for scanning.
type QR struct {
	Code      string `json:"code"`
	TimeoutMs int64  `json:"timeoutMs"`
}

// PairingCode is the code to type on the phone.
type PairingCode struct {
	Code  string `json:"code"`
	Phone string `json:"phone"`
}

// Authenticated: the device is paired (method "pairing") or logged in with
// a stored session ("stored").
type Authenticated struct {
	Me           *string `json:"me"`
	LID          *string `json:"lid"`
	Platform     string  `json:"platform"`
	BusinessName string  `json:"businessName"`
	Method       string  `json:"method"`
}

// Reasons of auth_failure.
const (
	AuthQRTimeout          = "qr_timeout"
	AuthScannedWithoutMD   = "scanned_without_multidevice"
	AuthPairError          = "pair_error"
	AuthPairingUnconfirmed = "pairing_unconfirmed"
	AuthLoggedOut          = "logged_out"
	AuthConnectFailure     = "connect_failure"
	AuthTemporaryBan       = "temporary_ban"
	AuthClientOutdated     = "client_outdated"
)

// AuthFailure: a login or pairing did not succeed.
type AuthFailure struct {
	Reason  string `json:"reason"`
	Message string `json:"message"`
	// Version is the version the service refused (client_outdated only).
	Version string `json:"version,omitempty"`
}

// Ready: logged in and online.
type Ready struct {
	Me *string `json:"me"`
}

// Creds are the session's identifiers; never key material.
type Creds struct {
	Me           *string `json:"me"`
	LID          *string `json:"lid"`
	Platform     string  `json:"platform"`
	PushName     string  `json:"pushName"`
	BusinessName string  `json:"businessName"`
	Registered   bool    `json:"registered"`
}

// changedFrom names the fields (by their page names) that differ from old.
func (c Creds) changedFrom(old Creds) []string {
	var out []string
	if deref(c.Me) != deref(old.Me) || (c.Me == nil) != (old.Me == nil) {
		out = append(out, "me")
	}
	if deref(c.LID) != deref(old.LID) || (c.LID == nil) != (old.LID == nil) {
		out = append(out, "lid")
	}
	if c.Platform != old.Platform {
		out = append(out, "platform")
	}
	if c.PushName != old.PushName {
		out = append(out, "pushName")
	}
	if c.BusinessName != old.BusinessName {
		out = append(out, "businessName")
	}
	if c.Registered != old.Registered {
		out = append(out, "registered")
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// CredsUpdate names the creds fields that changed, with the new creds.
type CredsUpdate struct {
	Changed []string `json:"changed"`
	Creds   Creds    `json:"creds"`
}

// Reasons of disconnected.
const (
	DisconnectClient           = "client"
	DisconnectConnectionLost   = "connection_lost"
	DisconnectKeepaliveTimeout = "keepalive_timeout"
	DisconnectReplaced         = "replaced"
	DisconnectQRTimeout        = "qr_timeout"
	DisconnectStoreFailed      = "store_failed"
)

// Disconnected: the socket is gone (Message: more detail, when there is).
type Disconnected struct {
	Reason  string `json:"reason"`
	Message string `json:"message,omitempty"`
}

// Reconnecting: attempt n (from 1) starts after DelayMs.
type Reconnecting struct {
	Attempt int   `json:"attempt"`
	DelayMs int64 `json:"delayMs"`
}

// Reasons of logged_out, besides "server_logout:<why>".
const (
	LoggedOutLogout      = "logout"
	LoggedOutServer      = "server_logout"
	LoggedOutUnconfirmed = "pairing_unconfirmed"
)

// LoggedOut: the session was wiped.
type LoggedOut struct {
	Reason string `json:"reason"`
}

// Message is a chat message for the page.
type Message struct {
	ID             string  `json:"id"`
	Chat           string  `json:"chat"`
	ChatAlt        *string `json:"chatAlt"`
	Sender         string  `json:"sender"`
	SenderAlt      *string `json:"senderAlt"`
	AddressingMode string  `json:"addressingMode"`
	FromMe         bool    `json:"fromMe"`
	Redelivered    bool    `json:"redelivered"`
	IsGroup        bool    `json:"isGroup"`
	PushName       string  `json:"pushName"`
	Text           string  `json:"text"`
	Time           int64   `json:"time"`
	// The type and its fields, the key and raw (messages.go).
	MessageContent
	Media *Media `json:"media,omitempty"` // media.go
}

// RemoteSessionSaved: a snapshot reached the user's remote store.
type RemoteSessionSaved struct {
	Session string `json:"session"`
	Bytes   int    `json:"bytes"`
	Records int    `json:"records"`
	SavedAt int64  `json:"savedAt"`
	Format  string `json:"format"`
	Version int    `json:"version"`
}

// ErrorEvent is the error event: the page gets Err as a JS Error with its code.
type ErrorEvent struct {
	Err error
}

func (QR) EventName() string                 { return "qr" }
func (PairingCode) EventName() string        { return "pairing_code" }
func (Authenticated) EventName() string      { return "authenticated" }
func (AuthFailure) EventName() string        { return "auth_failure" }
func (Ready) EventName() string              { return "ready" }
func (CredsUpdate) EventName() string        { return "creds.update" }
func (Disconnected) EventName() string       { return "disconnected" }
func (Reconnecting) EventName() string       { return "reconnecting" }
func (LoggedOut) EventName() string          { return "logged_out" }
func (Message) EventName() string            { return "message" }
func (RemoteSessionSaved) EventName() string { return "remote_session_saved" }
func (ErrorEvent) EventName() string         { return "error" }

func strPtr(s string) *string { return &s }

// Media describes the image, video, audio, document or sticker of a
// message; downloadMedia takes it back (the url, direct path, key and
// hashes are what whatsmeow needs to download and verify the blob).
type Media struct {
	Type          string `json:"type"`
	Mimetype      string `json:"mimetype"`
	Size          uint64 `json:"size"`
	FileName      string `json:"fileName,omitempty"`
	Caption       string `json:"caption,omitempty"`
	Width         uint32 `json:"width,omitempty"`
	Height        uint32 `json:"height,omitempty"`
	Seconds       uint32 `json:"seconds,omitempty"`
	PTT           bool   `json:"ptt,omitempty"`
	URL           string `json:"url,omitempty"`
	DirectPath    string `json:"directPath"`
	MediaKey      []byte `json:"mediaKey"`      // base64 in JSON
	FileSHA256    []byte `json:"fileSha256"`    // base64 in JSON
	FileEncSHA256 []byte `json:"fileEncSha256"` // base64 in JSON
}

// HistorySync is one history-sync blob of the phone: its kind, how far
// the phone's whole transfer is, and the conversations it holds (their
// messages as message events describe them, oldest first).
type HistorySync struct {
	SyncType      string                `json:"syncType"`
	ChunkOrder    uint32                `json:"chunkOrder"`
	Progress      uint32                `json:"progress"`
	Conversations []HistoryConversation `json:"conversations"`
}

// HistoryConversation is one chat of a history sync.
type HistoryConversation struct {
	ID          string    `json:"id"`
	Name        string    `json:"name,omitempty"`
	UnreadCount uint32    `json:"unreadCount"`
	Messages    []Message `json:"messages"`
}

// ContactsUpdate: names learned from app state (the address book) and push
// names (messages, the history sync); only the fields learned are set.
type ContactsUpdate struct {
	Contacts []ContactUpdate `json:"contacts"`
}

// ContactUpdate is what was learned about one contact.
type ContactUpdate struct {
	JID       string  `json:"jid"`
	FullName  *string `json:"fullName,omitempty"`
	FirstName *string `json:"firstName,omitempty"`
	PushName  *string `json:"pushName,omitempty"`
}

// ChatsUpdate: chat settings from app state (another device, or the full
// sync after pairing); only the fields that changed are set.
type ChatsUpdate struct {
	Chats []ChatUpdate `json:"chats"`
}

// ChatUpdate is one chat's changed settings.
type ChatUpdate struct {
	JID      string `json:"jid"`
	Muted    *bool  `json:"muted,omitempty"`
	MuteEnd  *int64 `json:"muteEndTime,omitempty"` // unix ms; -1: forever
	Pinned   *bool  `json:"pinned,omitempty"`
	Archived *bool  `json:"archived,omitempty"`
	Read     *bool  `json:"read,omitempty"`
}

func (HistorySync) EventName() string    { return "history_sync" }
func (ContactsUpdate) EventName() string { return "contacts.update" }
func (ChatsUpdate) EventName() string    { return "chats.update" }
