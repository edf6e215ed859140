package sessionconv

import (
	"context"
	"fmt"
	"time"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"

	"github.com/wasmeow/wasmeow/idbstore"
)

// rawWriter writes the two kinds of records whatsmeow's interfaces cannot
// write as they were stored (see idbstore.ImportPreKeys).
type rawWriter interface {
	putPreKeys(ctx context.Context, our string, rows []idbstore.PreKeyRow) error
	putBufferedEvents(ctx context.Context, our string, rows []idbstore.BufferedEventRow) error
}

// copyDevice is a new, unsaved device with src's credentials and account:
// its stores are wired by the PutDevice of the container it is saved in.
func copyDevice(src *store.Device) *store.Device {
	id := *src.ID
	return &store.Device{
		Log:                   src.Log,
		NoiseKey:              src.NoiseKey,
		IdentityKey:           src.IdentityKey,
		SignedPreKey:          src.SignedPreKey,
		RegistrationID:        src.RegistrationID,
		AdvSecretKey:          src.AdvSecretKey,
		ID:                    &id,
		LID:                   src.LID,
		Account:               src.Account,
		Platform:              src.Platform,
		BusinessName:          src.BusinessName,
		PushName:              src.PushName,
		LIDMigrationTimestamp: src.LIDMigrationTimestamp,
		FacebookUUID:          src.FacebookUUID,
	}
}

// writeRows saves the device into container and writes every row through
// the device's whatsmeow store interfaces (raw only for prekeys and
// buffered events). The container must not hold the device yet.
func writeRows(ctx context.Context, container store.DeviceContainer, rows *idbstore.DeviceRows, rawFor func(*store.Device) rawWriter) (*store.Device, error) {
	dev := copyDevice(rows.Device)
	if err := container.PutDevice(ctx, dev); err != nil {
		return nil, fmt.Errorf("saving device %s: %w", dev.ID, err)
	}
	raw := rawFor(dev)
	our := dev.ID.String()
	for _, step := range []struct {
		what string
		run  func() error
	}{
		{"identities", func() error {
			for _, r := range rows.Identities {
				if err := dev.Identities.PutIdentity(ctx, r.Address, r.Key); err != nil {
					return err
				}
			}
			return nil
		}},
		{"sessions", func() error {
			if len(rows.Sessions) == 0 {
				return nil
			}
			m := make(map[string][]byte, len(rows.Sessions))
			for _, r := range rows.Sessions {
				m[r.Address] = r.Session
			}
			return dev.Sessions.PutManySessions(ctx, m)
		}},
		{"prekeys", func() error { return raw.putPreKeys(ctx, our, rows.PreKeys) }},
		{"sender keys", func() error {
			for _, r := range rows.SenderKeys {
				if err := dev.SenderKeys.PutSenderKey(ctx, r.Chat, r.Sender, r.Key); err != nil {
					return err
				}
			}
			return nil
		}},
		{"app state sync keys", func() error {
			for _, r := range rows.AppStateSyncKeys {
				if err := dev.AppStateKeys.PutAppStateSyncKey(ctx, r.ID, r.Key); err != nil {
					return err
				}
			}
			return nil
		}},
		{"app state versions", func() error {
			for _, r := range rows.AppStateVersions {
				if err := dev.AppState.PutAppStateVersion(ctx, r.Name, r.Version, r.Hash); err != nil {
					return err
				}
			}
			return nil
		}},
		{"app state mutation MACs", func() error { return putMACs(ctx, dev.AppState, rows.AppStateMACs) }},
		{"contacts", func() error { return putContacts(ctx, dev.Contacts, rows.Contacts) }},
		{"chat settings", func() error { return putChatSettings(ctx, dev.ChatSettings, rows.ChatSettings) }},
		{"message secrets", func() error {
			ins := make([]store.MessageSecretInsert, 0, len(rows.MessageSecrets))
			for _, r := range rows.MessageSecrets {
				chat, err := parseJID("message secret chat", r.Chat)
				if err != nil {
					return err
				}
				sender, err := parseJID("message secret sender", r.Sender)
				if err != nil {
					return err
				}
				ins = append(ins, store.MessageSecretInsert{Chat: chat, Sender: sender, ID: r.ID, Secret: r.Secret})
			}
			return dev.MsgSecrets.PutMessageSecrets(ctx, ins)
		}},
		{"privacy tokens", func() error {
			if len(rows.PrivacyTokens) == 0 {
				return nil
			}
			tokens := make([]store.PrivacyToken, 0, len(rows.PrivacyTokens))
			for _, r := range rows.PrivacyTokens {
				user, err := parseJID("privacy token user", r.User)
				if err != nil {
					return err
				}
				tokens = append(tokens, store.PrivacyToken{User: user, Token: r.Token, Timestamp: time.Unix(r.Timestamp, 0)})
			}
			return dev.PrivacyTokens.PutPrivacyTokens(ctx, tokens...)
		}},
		{"buffered events", func() error { return raw.putBufferedEvents(ctx, our, rows.BufferedEvents) }},
		{"LID mappings", func() error {
			m := make([]store.LIDMapping, len(rows.LIDMappings))
			for i, r := range rows.LIDMappings {
				m[i] = store.LIDMapping{LID: types.NewJID(r.LID, types.HiddenUserServer), PN: types.NewJID(r.PN, types.DefaultUserServer)}
			}
			return dev.LIDs.PutManyLIDMappings(ctx, m)
		}},
	} {
		if err := step.run(); err != nil {
			return nil, fmt.Errorf("writing %s of %s: %w", step.what, our, err)
		}
	}
	return dev, nil
}

func parseJID(what, s string) (types.JID, error) {
	j, err := types.ParseJID(s)
	if err != nil {
		return j, fmt.Errorf("%s %q: %w", what, s, err)
	}
	return j, nil
}

// putMACs writes the MACs a patch (name, version) at a time, as whatsmeow
// does when it applies one.
func putMACs(ctx context.Context, st store.AppStateStore, rows []idbstore.AppStateMACRow) error {
	type patch struct {
		name    string
		version uint64
	}
	var order []patch
	byPatch := map[patch][]store.AppStateMutationMAC{}
	for _, r := range rows {
		p := patch{r.Name, r.Version}
		if _, ok := byPatch[p]; !ok {
			order = append(order, p)
		}
		byPatch[p] = append(byPatch[p], store.AppStateMutationMAC{IndexMAC: r.IndexMAC, ValueMAC: r.ValueMAC})
	}
	for _, p := range order {
		if err := st.PutAppStateMutationMACs(ctx, p.name, p.version, byPatch[p]); err != nil {
			return fmt.Errorf("%s version %d: %w", p.name, p.version, err)
		}
	}
	return nil
}

// putContacts writes each name column only where the source has one, so a
// column sqlstore left NULL is not filled with an empty string.
func putContacts(ctx context.Context, st store.ContactStore, rows []idbstore.ContactRow) error {
	var names []store.ContactEntry
	var phones []store.RedactedPhoneEntry
	for _, r := range rows {
		jid, err := parseJID("contact", r.JID)
		if err != nil {
			return err
		}
		if r.FirstName != "" || r.FullName != "" {
			names = append(names, store.ContactEntry{JID: jid, FirstName: r.FirstName, FullName: r.FullName})
		}
		if r.RedactedPhone != "" {
			phones = append(phones, store.RedactedPhoneEntry{JID: jid, RedactedPhone: r.RedactedPhone})
		}
		if r.PushName != "" {
			if _, _, err := st.PutPushName(ctx, jid, r.PushName); err != nil {
				return err
			}
		}
		if r.BusinessName != "" {
			if _, _, err := st.PutBusinessName(ctx, jid, r.BusinessName); err != nil {
				return err
			}
		}
	}
	if err := st.PutAllContactNames(ctx, names); err != nil {
		return err
	}
	return st.PutManyRedactedPhones(ctx, phones)
}

func putChatSettings(ctx context.Context, st store.ChatSettingsStore, rows []idbstore.ChatSettingsRow) error {
	for _, r := range rows {
		chat, err := parseJID("chat", r.Chat)
		if err != nil {
			return err
		}
		var muted time.Time
		switch {
		case r.MutedUntil < 0:
			muted = store.MutedForever
		case r.MutedUntil > 0:
			muted = time.Unix(r.MutedUntil, 0)
		}
		if err := st.PutMutedUntil(ctx, chat, muted); err != nil {
			return err
		}
		if err := st.PutPinned(ctx, chat, r.Pinned); err != nil {
			return err
		}
		if err := st.PutArchived(ctx, chat, r.Archived); err != nil {
			return err
		}
	}
	return nil
}
