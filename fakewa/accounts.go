//go:build !js

package fakewa

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mau.fi/libsignal/ecc"
	"google.golang.org/protobuf/proto"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/proto/waAdv"

	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/keys"
)

// account is a phone number with its simulated primary phone (device 0).
type account struct {
	Phone    string
	PushName string
	JID      types.JID // phone@s.whatsapp.net
	LID      types.JID // lid@lid

	identity   *keys.KeyPair // the phone's identity: signs companions in
	rawID      uint32        // ADVDeviceIdentity.rawId
	nextDevice uint16
	keyIndex   uint32
	devices    map[uint16]*device
	phone      *phone
	blocked    map[types.JID]bool // user JIDs the account blocked
}

// device is a device of an account: the phone (0) or a paired companion.
type device struct {
	acct     *account
	ID       uint16
	JID      types.JID // phone:D@s.whatsapp.net
	LID      types.JID // lid:D@lid
	Platform string
	// PlatformType is the companion's DeviceProps platform ("CHROME"), and
	// ClientType the client type of the QR code it was paired by (0: none).
	PlatformType string
	ClientType   int

	noisePub       [32]byte
	identity       [32]byte
	regID          uint32
	signedPreKey   preKey
	preKeys        []preKey // one-time prekeys, oldest first; a fetch consumes the first
	keyIndex       uint32
	conn           *conn
	passive        bool
	queue          []*queued  // stanzas not yet acknowledged by the device
	flushMu        sync.Mutex // one delivery pass at a time keeps the order
	simulatedPhone bool
}

type preKey struct {
	id        uint32
	pub       [32]byte
	signature []byte // only for the signed prekey
}

// AccountInfo describes an account in the control API.
type AccountInfo struct {
	Phone    string       `json:"phone"`
	JID      string       `json:"jid"`
	LID      string       `json:"lid"`
	PushName string       `json:"pushName"`
	Devices  []DeviceInfo `json:"devices,omitempty"`
}

// DeviceInfo describes a device in the control API.
type DeviceInfo struct {
	JID      string `json:"jid"`
	LID      string `json:"lid"`
	Platform string `json:"platform"`
	// PlatformType and ClientType: what the companion announced in its
	// DeviceProps ("CHROME") and in the QR code the phone scanned (1).
	PlatformType string `json:"platformType,omitempty"`
	ClientType   int    `json:"clientType,omitempty"`
	Online       bool   `json:"online"`
	// Queued counts the stanzas sent or waiting for this device that it has
	// not acknowledged yet (they are delivered again on its next login).
	Queued int `json:"queued"`
	// QueuedMessages are the ids of the message stanzas among them: a test
	// that kills a client learns which messages it had acknowledged before.
	QueuedMessages []string `json:"queuedMessages,omitempty"`
}

func normalizePhone(phone string) (string, error) {
	phone = strings.TrimPrefix(strings.TrimSpace(phone), "+")
	if i := strings.IndexByte(phone, '@'); i >= 0 {
		phone = phone[:i]
	}
	if len(phone) < 7 || len(phone) > 15 || phone[0] == '0' {
		return "", fmt.Errorf("phone number %q must have 7 to 15 digits in international form", phone)
	}
	for _, r := range phone {
		if r < '0' || r > '9' {
			return "", fmt.Errorf("phone number %q must contain only digits", phone)
		}
	}
	return phone, nil
}

func randomUint32() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:])
}

// CreateAccount registers a phone number with a simulated primary phone.
func (s *Server) CreateAccount(phone, pushName string) (AccountInfo, error) {
	phone, err := normalizePhone(phone)
	if err != nil {
		return AccountInfo{}, err
	}
	ph, err := newPhone()
	if err != nil {
		return AccountInfo{}, fmt.Errorf("creating phone for account %s: %w", phone, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return AccountInfo{}, ErrClosed
	}
	if _, ok := s.accounts[phone]; ok {
		return AccountInfo{}, fmt.Errorf("account %s already exists", phone)
	}
	var lidUser string
	for {
		n, _ := rand.Int(rand.Reader, big.NewInt(9e13))
		lidUser = fmt.Sprintf("1%014d", n.Int64())
		if _, taken := s.byLID[lidUser]; !taken {
			break
		}
	}
	a := &account{
		Phone: phone, PushName: pushName,
		JID:        types.NewJID(phone, types.DefaultUserServer),
		LID:        types.NewJID(lidUser, types.HiddenUserServer),
		identity:   ph.identityKeyPair(),
		rawID:      randomUint32(),
		nextDevice: 1,
		devices:    make(map[uint16]*device),
		phone:      ph,
	}
	ph.acct = a
	if err := ph.initAppState(s, pushName, s.cfg.Contacts); err != nil {
		return AccountInfo{}, fmt.Errorf("app state of account %s: %w", phone, err)
	}
	primary := &device{acct: a, ID: 0, JID: a.deviceJID(0), LID: a.deviceLID(0), Platform: "android", simulatedPhone: true}
	ph.fillDevice(primary)
	a.devices[0] = primary
	s.devices[primary.JID] = primary
	s.accounts[phone] = a
	s.byLID[lidUser] = a
	s.log.Infof("Created account %s (%s, LID %s)", phone, pushName, a.LID)
	return s.accountInfoLocked(a), nil
}

func (a *account) deviceJID(id uint16) types.JID {
	return types.JID{User: a.Phone, Device: id, Server: types.DefaultUserServer}
}

func (a *account) deviceLID(id uint16) types.JID {
	return types.JID{User: a.LID.User, Device: id, Server: types.HiddenUserServer}
}

// sortedDevices lists the account's devices by id.
func (a *account) sortedDevices() []*device {
	out := make([]*device, 0, len(a.devices))
	for _, d := range a.devices {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *Server) accountInfoLocked(a *account) AccountInfo {
	info := AccountInfo{Phone: a.Phone, JID: a.JID.String(), LID: a.LID.String(), PushName: a.PushName}
	for _, d := range a.sortedDevices() {
		info.Devices = append(info.Devices, DeviceInfo{
			JID: d.JID.String(), LID: d.LID.String(), Platform: d.Platform,
			PlatformType: d.PlatformType, ClientType: d.ClientType,
			Online: d.simulatedPhone || d.conn != nil,
			Queued: len(d.queue), QueuedMessages: queuedMessageIDs(d.queue),
		})
	}
	return info
}

func queuedMessageIDs(q []*queued) []string {
	var ids []string
	for _, e := range q {
		if e.node.Tag == "message" {
			if id, ok := e.node.Attrs["id"].(string); ok {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// Accounts lists every account with its devices.
func (s *Server) Accounts() []AccountInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	phones := make([]string, 0, len(s.accounts))
	for p := range s.accounts {
		phones = append(phones, p)
	}
	sort.Strings(phones)
	out := make([]AccountInfo, 0, len(phones))
	for _, p := range phones {
		out = append(out, s.accountInfoLocked(s.accounts[p]))
	}
	return out
}

// account finds an account by phone number (or user JID).
func (s *Server) lookupAccount(phone string) (*account, error) {
	p, err := normalizePhone(phone)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[p]
	if !ok {
		return nil, fmt.Errorf("no account with phone number %s", p)
	}
	return a, nil
}

// userAccountLocked resolves a user JID, PN or LID, to its account.
func (s *Server) userAccountLocked(jid types.JID) *account {
	switch jid.Server {
	case types.DefaultUserServer:
		return s.accounts[jid.User]
	case types.HiddenUserServer:
		return s.byLID[jid.User]
	}
	return nil
}

// deviceLocked resolves a device JID, PN or LID, to its device.
func (s *Server) deviceLocked(jid types.JID) *device {
	a := s.userAccountLocked(jid)
	if a == nil {
		return nil
	}
	return a.devices[jid.Device]
}

// keyIndexListLocked is the <key-index-list> of a devices notification: the
// account's ADVSignedKeyIndexList (rawId, timestamp, current and valid key
// indexes), signed by the phone's identity key, as whatsapp-rust
// (src/client/device_registry.rs patch_device_add) decodes it. The signature
// prefix {6,2} is not verified from public sources; no known client checks it.
func (a *account) keyIndexListLocked() waBinary.Node {
	now := time.Now().Unix()
	list := &waAdv.ADVKeyIndexList{RawID: proto.Uint32(a.rawID), Timestamp: proto.Uint64(uint64(now)), CurrentIndex: proto.Uint32(a.keyIndex)}
	for _, d := range a.sortedDevices() {
		if d.ID != 0 {
			list.ValidIndexes = append(list.ValidIndexes, d.keyIndex)
		}
	}
	details, _ := proto.Marshal(list)
	sig := ecc.CalculateSignature(ecc.NewDjbECPrivateKey(*a.identity.Priv), concat([]byte{6, 2}, details))
	signed, _ := proto.Marshal(&waAdv.ADVSignedKeyIndexList{Details: details, AccountSignature: sig[:], AccountSignatureKey: a.identity.Pub[:]})
	return waBinary.Node{Tag: "key-index-list", Attrs: waBinary.Attrs{"ts": strconv.FormatInt(now, 10)}, Content: signed}
}
