//go:build !js

package fakewa

import (
	"crypto/rand"
	"fmt"
	"math/big"

	"google.golang.org/protobuf/proto"

	"go.mau.fi/whatsmeow/appstate"
	"go.mau.fi/whatsmeow/proto/waSyncAction"
	"go.mau.fi/whatsmeow/types"
)

// What a phone writes into its app state: the address book (contact
// mutations in critical_unblock_low, version 2, as Baileys 7
// Utils/chat-utils.ts chatModificationToAppPatch writes them) and chat
// settings (whatsmeow's appstate.BuildMute, BuildPin, BuildArchive).

// DefaultContacts is how many address-book contacts a new account's phone
// holds unless Config.Contacts says otherwise.
const DefaultContacts = 25

// Contact is an address-book entry of a phone.
type Contact struct {
	Phone     string `json:"phone"`
	FirstName string `json:"firstName"`
	FullName  string `json:"fullName"`
}

var (
	firstNames = []string{"Amara", "Ben", "Carmen", "Dmitri", "Elif", "Farah", "Giulia", "Hiroshi", "Ines", "Jonas",
		"Kwame", "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sanjay", "Tamar",
		"Umar", "Vera", "Wei", "Ximena", "Yusuf", "Zofia", "Aiyana", "Bruno", "Chiara", "Diego"}
	lastNames = []string{"Okafor", "Schmidt", "Alvarez", "Ivanov", "Yilmaz", "Haddad", "Rossi", "Tanaka", "Moreau", "Berg",
		"Mensah", "Novak", "Silva", "Karimi", "Lindqvist", "Sharma", "Dubois", "Costa", "Patel", "Cohen",
		"Farouk", "Petrova", "Chen", "Ortega", "Demir", "Kowalska", "Whitehorse", "Ferreira", "Bianchi", "Ramos"}
)

func randomIndex(n int) int {
	v, _ := rand.Int(rand.Reader, big.NewInt(int64(n)))
	return int(v.Int64())
}

// generateContacts makes n contacts with realistic names and made-up numbers
// in the account's country (its number with the last 7 digits replaced).
func (p *phone) generateContacts(n int) []Contact {
	if n == 0 {
		n = DefaultContacts
	}
	prefix := p.acct.Phone[:len(p.acct.Phone)-7]
	seen := map[string]bool{p.acct.Phone: true}
	var out []Contact
	for len(out) < n {
		num := fmt.Sprintf("%s%07d", prefix, randomIndex(1e7))
		if seen[num] {
			continue
		}
		seen[num] = true
		first := firstNames[randomIndex(len(firstNames))]
		out = append(out, Contact{Phone: num, FirstName: first, FullName: first + " " + lastNames[randomIndex(len(lastNames))]})
	}
	return out
}

// contactsPatch is one critical_unblock_low patch setting the contacts.
func contactsPatch(contacts []Contact) appstate.PatchInfo {
	info := appstate.PatchInfo{Type: appstate.WAPatchCriticalUnblockLow}
	for _, c := range contacts {
		info.Mutations = append(info.Mutations, appstate.MutationInfo{
			Index:   []string{appstate.IndexContact, types.NewJID(c.Phone, types.DefaultUserServer).String()},
			Version: 2,
			Value: &waSyncAction.SyncActionValue{ContactAction: &waSyncAction.ContactAction{
				FullName: proto.String(c.FullName), FirstName: proto.String(c.FirstName), SaveOnPrimaryAddressbook: proto.Bool(true),
			}},
		})
	}
	return info
}

// linkPreviewSetting is the regular collection's setting_disableLinkPreviews
// (version 8 in Baileys' chatModificationToAppPatch).
func linkPreviewSetting(disabled bool) appstate.PatchInfo {
	return appstate.PatchInfo{Type: appstate.WAPatchRegular, Mutations: []appstate.MutationInfo{{
		Index: []string{"setting_disableLinkPreviews"}, Version: 8,
		Value: &waSyncAction.SyncActionValue{PrivacySettingDisableLinkPreviewsAction: &waSyncAction.PrivacySettingDisableLinkPreviewsAction{
			IsPreviewsDisabled: proto.Bool(disabled),
		}},
	}}}
}

// AddContacts has the account's phone save contacts in its address book, in
// one patch; online companions hear of it (server_sync).
func (s *Server) AddContacts(phone string, contacts []Contact) error {
	a, err := s.lookupAccount(phone)
	if err != nil {
		return err
	}
	if len(contacts) == 0 {
		return fmt.Errorf("no contacts to add")
	}
	for i, c := range contacts {
		if contacts[i].Phone, err = normalizePhone(c.Phone); err != nil {
			return fmt.Errorf("contact %d: %w", i, err)
		}
		if c.FullName == "" {
			return fmt.Errorf("contact %s has no full name", c.Phone)
		}
	}
	return s.writeAndNotify(a, contactsPatch(contacts))
}

// ChatState is a change of a chat's settings on the phone; nil fields stay.
type ChatState struct {
	Muted    *bool `json:"muted,omitempty"` // muted for ever, or unmuted
	Pinned   *bool `json:"pinned,omitempty"`
	Archived *bool `json:"archived,omitempty"`
}

// SetChatState has the account's phone mute, pin or archive a chat (a
// phone number or user JID), one patch per change, as whatsmeow's builders
// make them (mute in regular_high; pin and archive in regular_low, where
// archiving also unpins).
func (s *Server) SetChatState(phone, chat string, st ChatState) error {
	a, err := s.lookupAccount(phone)
	if err != nil {
		return err
	}
	p, err := normalizePhone(chat)
	if err != nil {
		return fmt.Errorf("chat: %w", err)
	}
	jid := types.NewJID(p, types.DefaultUserServer)
	var patches []appstate.PatchInfo
	if st.Muted != nil {
		patches = append(patches, appstate.BuildMuteAbs(jid, *st.Muted, nil))
	}
	if st.Pinned != nil {
		patches = append(patches, appstate.BuildPin(jid, *st.Pinned))
	}
	if st.Archived != nil {
		patches = append(patches, appstate.BuildArchive(jid, *st.Archived, a.phone.lastMessageTime(jid), nil))
	}
	if len(patches) == 0 {
		return fmt.Errorf("nothing to change: set muted, pinned or archived")
	}
	for _, info := range patches {
		if err = s.writeAndNotify(a, info); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) writeAndNotify(a *account, info appstate.PatchInfo) error {
	version, err := a.phone.writeAppState(s, info)
	if err != nil {
		return fmt.Errorf("phone %s: %w", a.Phone, err)
	}
	s.log.Infof("phone %s: app state %s now at version %d", a.Phone, info.Type, version)
	s.notifyAppStateChanged(a, info.Type, version, nil)
	return nil
}

// AppStateVersions lists the version of each of the account's collections.
func (s *Server) AppStateVersions(phone string) (map[string]uint64, error) {
	a, err := s.lookupAccount(phone)
	if err != nil {
		return nil, err
	}
	return a.phone.syncd.versions(), nil
}
