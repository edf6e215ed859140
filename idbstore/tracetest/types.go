package tracetest

import (
	"encoding/json"

	"go.mau.fi/whatsmeow/types"
)

// Arguments and results of the trace calls, as they appear in the JSON lines.

type addrArgs struct {
	Addr string `json:"addr"`
}

type identityArgs struct {
	Addr string `json:"addr"`
	Key  Bytes  `json:"key"`
}

type phoneArgs struct {
	Phone string `json:"phone"`
}

type addrsArgs struct {
	Addrs []string `json:"addrs"`
}

type sessionArgs struct {
	Addr    string `json:"addr"`
	Session Bytes  `json:"session"`
}

type manySessionsArgs struct {
	Sessions map[string]Bytes `json:"sessions"`
}

type countArgs struct {
	Count uint32 `json:"count"`
}

type idArgs struct {
	ID uint32 `json:"id"`
}

type preKeyRes struct {
	ID    uint32 `json:"id"`
	Known bool   `json:"known"`
}

type senderKeyArgs struct {
	Group string `json:"group"`
	User  string `json:"user"`
	Key   Bytes  `json:"key,omitempty"`
}

type syncKeyArgs struct {
	ID          Bytes `json:"id,omitempty"`
	Data        Bytes `json:"data,omitempty"`
	Fingerprint Bytes `json:"fingerprint,omitempty"`
	Timestamp   int64 `json:"timestamp,omitempty"`
}

type appVersionArgs struct {
	Name    string `json:"name,omitempty"`
	Version uint64 `json:"version"`
	Hash    Bytes  `json:"hash,omitempty"`
}

type macArgs struct {
	Name  string `json:"name,omitempty"`
	Index Bytes  `json:"index"`
	Value Bytes  `json:"value,omitempty"`
}

type macsArgs struct {
	Name      string    `json:"name"`
	Version   uint64    `json:"version,omitempty"`
	Mutations []macArgs `json:"mutations,omitempty"`
	Indexes   []Bytes   `json:"indexes,omitempty"`
}

type contactArgs struct {
	JID   string `json:"jid"`
	Name  string `json:"name,omitempty"`
	First string `json:"first,omitempty"`
	Full  string `json:"full,omitempty"`
}

type contactsArgs struct {
	Contacts []contactArgs `json:"contacts"`
}

type changedRes struct {
	Changed bool   `json:"changed"`
	Old     string `json:"old"`
}

type contactRes struct {
	JID  string            `json:"jid"`
	Info types.ContactInfo `json:"info"`
}

type chatArgs struct {
	Chat       string `json:"chat"`
	MutedUntil int64  `json:"mutedUntil,omitempty"`
	Value      bool   `json:"value,omitempty"`
}

type chatRes struct {
	Found      bool  `json:"found"`
	MutedUntil int64 `json:"mutedUntil"`
	Pinned     bool  `json:"pinned"`
	Archived   bool  `json:"archived"`
}

type secretArgs struct {
	Chat   string `json:"chat,omitempty"`
	Sender string `json:"sender"`
	ID     string `json:"id,omitempty"`
	Secret Bytes  `json:"secret"`
}

type secretsArgs struct {
	Secrets []secretArgs `json:"secrets"`
}

type tokenArg struct {
	User      string `json:"user"`
	Token     Bytes  `json:"token,omitempty"`
	Timestamp int64  `json:"ts,omitempty"`
}

type tokensArgs struct {
	Tokens []tokenArg `json:"tokens"`
}

type bufArgs struct {
	Hash       Bytes `json:"hash"`
	Plaintext  Bytes `json:"plaintext,omitempty"`
	ServerTime int64 `json:"serverTime,omitempty"`
}

type bufRes struct {
	Plaintext        Bytes `json:"plaintext"`
	ServerTime       int64 `json:"serverTime"`
	InsertTimeRecent bool  `json:"insertTimeRecent"`
}

type txnStep struct {
	Op   string          `json:"op"`
	Args json.RawMessage `json:"args"`
}

type txnArgs struct {
	Steps []txnStep `json:"steps"`
	Fail  bool      `json:"fail,omitempty"`
}

type stepRes struct {
	Op     string          `json:"op"`
	Res    json.RawMessage `json:"res"`
	Failed bool            `json:"failed,omitempty"`
}

type txnRes struct {
	Steps []stepRes `json:"steps"`
}

type lidMapArgs struct {
	LID string `json:"lid,omitempty"`
	PN  string `json:"pn,omitempty"`
}

type lidMapsArgs struct {
	Mappings []lidMapArgs `json:"mappings"`
}

type jidsArgs struct {
	JIDs []string `json:"jids,omitempty"`
}

type newDeviceArgs struct {
	Noise          Bytes  `json:"noise"`
	Identity       Bytes  `json:"identity"`
	SignedPreKey   Bytes  `json:"signedPreKey"`
	Signature      Bytes  `json:"signature"`
	RegistrationID uint32 `json:"registrationId"`
	AdvSecret      Bytes  `json:"advSecret"`
}

type newDeviceRes struct {
	IDNil          bool   `json:"idNil"`
	Initialized    bool   `json:"initialized"`
	KeysDistinct   bool   `json:"keysDistinct"`
	SignedPreKeyID uint32 `json:"signedPreKeyId"`
	SignatureValid bool   `json:"signatureValid"`
	AdvSecretLen   int    `json:"advSecretLen"`
}

type accountArgs struct {
	Details   Bytes `json:"details"`
	Sig       Bytes `json:"sig"`
	SigKey    Bytes `json:"sigKey"`
	DeviceSig Bytes `json:"deviceSig"`
}

type putDeviceArgs struct {
	NoID           bool        `json:"noId,omitempty"`
	ID             string      `json:"id,omitempty"`
	LID            string      `json:"lid,omitempty"`
	Platform       string      `json:"platform,omitempty"`
	BusinessName   string      `json:"businessName,omitempty"`
	PushName       string      `json:"pushName,omitempty"`
	LIDMigrationTS int64       `json:"lidMigrationTs,omitempty"`
	FacebookUUID   string      `json:"facebookUuid,omitempty"`
	Account        accountArgs `json:"account"`
}

type deviceRec struct {
	ID             string      `json:"id"`
	LID            string      `json:"lid"`
	RegistrationID uint32      `json:"registrationId"`
	Noise          Bytes       `json:"noise"`
	Identity       Bytes       `json:"identity"`
	SignedPreKey   Bytes       `json:"signedPreKey"`
	SignedPreKeyID uint32      `json:"signedPreKeyId"`
	Signature      Bytes       `json:"signature"`
	AdvSecret      Bytes       `json:"advSecret"`
	Account        accountArgs `json:"account"`
	Platform       string      `json:"platform"`
	BusinessName   string      `json:"businessName"`
	PushName       string      `json:"pushName"`
	LIDMigrationTS int64       `json:"lidMigrationTs"`
	FacebookUUID   string      `json:"facebookUuid"`
}

type firstDeviceRes struct {
	Fresh  bool       `json:"fresh"`
	Count  int        `json:"count"`
	Device *deviceRec `json:"device,omitempty"`
	Member bool       `json:"member"`
}
