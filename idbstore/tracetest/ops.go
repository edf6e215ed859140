package tracetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"
	"go.mau.fi/libsignal/ecc"
	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/keys"
)

// opFunc runs one method. Its result must be a deterministic, JSON-encodable
// value: what two correct stores given the same calls return alike.
type opFunc func(ctx context.Context, e *Env, dev int, args json.RawMessage) (any, error)

var ops map[string]opFunc

// txnSteps are the methods a DoDecryptionTxn trace call may run inside fn:
// those whatsmeow's decryption path uses, whose writes must land atomically.
var txnSteps = map[string]bool{
	"GetSession": true, "HasSession": true, "PutSession": true, "DeleteSession": true,
	"IsTrustedIdentity": true, "PutIdentity": true,
	"GetPreKey": true, "RemovePreKey": true,
	"GetSenderKey": true, "PutSenderKey": true,
	"GetBufferedEvent": true, "PutBufferedEvent": true, "ClearBufferedEventPlaintext": true,
}

// errInjected is what fn returns in a DoDecryptionTxn call that must fail.
var errInjected = errors.New("injected decryption failure")

func init() {
	ops = map[string]opFunc{
		// IdentityStore
		"PutIdentity": device(func(ctx context.Context, d *store.Device, a identityArgs) (any, error) {
			k, err := key32(a.Key)
			if err != nil {
				return nil, err
			}
			return nil, d.Identities.PutIdentity(ctx, a.Addr, k)
		}),
		"DeleteAllIdentities": device(func(ctx context.Context, d *store.Device, a phoneArgs) (any, error) {
			return nil, d.Identities.DeleteAllIdentities(ctx, a.Phone)
		}),
		"DeleteIdentity": device(func(ctx context.Context, d *store.Device, a addrArgs) (any, error) {
			return nil, d.Identities.DeleteIdentity(ctx, a.Addr)
		}),
		"IsTrustedIdentity": device(func(ctx context.Context, d *store.Device, a identityArgs) (any, error) {
			k, err := key32(a.Key)
			if err != nil {
				return nil, err
			}
			return d.Identities.IsTrustedIdentity(ctx, a.Addr, k)
		}),

		// SessionStore
		"GetSession": device(func(ctx context.Context, d *store.Device, a addrArgs) (any, error) {
			s, err := d.Sessions.GetSession(ctx, a.Addr)
			return Bytes(s), err
		}),
		"HasSession": device(func(ctx context.Context, d *store.Device, a addrArgs) (any, error) {
			return d.Sessions.HasSession(ctx, a.Addr)
		}),
		"GetManySessions": device(func(ctx context.Context, d *store.Device, a addrsArgs) (any, error) {
			m, err := d.Sessions.GetManySessions(ctx, a.Addrs)
			out := make(map[string]Bytes, len(m))
			for k, v := range m {
				out[k] = v
			}
			return out, err
		}),
		"PutSession": device(func(ctx context.Context, d *store.Device, a sessionArgs) (any, error) {
			return nil, d.Sessions.PutSession(ctx, a.Addr, a.Session)
		}),
		"PutManySessions": device(func(ctx context.Context, d *store.Device, a manySessionsArgs) (any, error) {
			m := make(map[string][]byte, len(a.Sessions))
			for k, v := range a.Sessions {
				m[k] = v
			}
			return nil, d.Sessions.PutManySessions(ctx, m)
		}),
		"DeleteAllSessions": device(func(ctx context.Context, d *store.Device, a phoneArgs) (any, error) {
			return nil, d.Sessions.DeleteAllSessions(ctx, a.Phone)
		}),
		"DeleteSession": device(func(ctx context.Context, d *store.Device, a addrArgs) (any, error) {
			return nil, d.Sessions.DeleteSession(ctx, a.Addr)
		}),
		"MigratePNToLID": device(func(ctx context.Context, d *store.Device, a lidMapArgs) (any, error) {
			pn, lid, err := jid2(a.PN, a.LID)
			if err != nil {
				return nil, err
			}
			return nil, d.Sessions.MigratePNToLID(ctx, pn, lid)
		}),

		// PreKeyStore
		"GetOrGenPreKeys": deviceEnv(func(ctx context.Context, e *Env, dev int, d *store.Device, a countArgs) (any, error) {
			ks, err := d.PreKeys.GetOrGenPreKeys(ctx, a.Count)
			out := make([]preKeyRes, 0, len(ks))
			for _, k := range ks {
				out = append(out, e.preKey(dev, k))
			}
			return out, err
		}),
		"GenOnePreKey": deviceEnv(func(ctx context.Context, e *Env, dev int, d *store.Device, _ struct{}) (any, error) {
			k, err := d.PreKeys.GenOnePreKey(ctx)
			if k == nil {
				return nil, err
			}
			return e.preKey(dev, k), err
		}),
		"GetPreKey": deviceEnv(func(ctx context.Context, e *Env, dev int, d *store.Device, a idArgs) (any, error) {
			k, err := d.PreKeys.GetPreKey(ctx, a.ID)
			if k == nil {
				return nil, err
			}
			return e.preKey(dev, k), err
		}),
		"RemovePreKey": device(func(ctx context.Context, d *store.Device, a idArgs) (any, error) {
			return nil, d.PreKeys.RemovePreKey(ctx, a.ID)
		}),
		"MarkPreKeysAsUploaded": device(func(ctx context.Context, d *store.Device, a idArgs) (any, error) {
			return nil, d.PreKeys.MarkPreKeysAsUploaded(ctx, a.ID)
		}),
		"UploadedPreKeyCount": device(func(ctx context.Context, d *store.Device, _ struct{}) (any, error) {
			return d.PreKeys.UploadedPreKeyCount(ctx)
		}),

		// SenderKeyStore
		"PutSenderKey": device(func(ctx context.Context, d *store.Device, a senderKeyArgs) (any, error) {
			return nil, d.SenderKeys.PutSenderKey(ctx, a.Group, a.User, a.Key)
		}),
		"GetSenderKey": device(func(ctx context.Context, d *store.Device, a senderKeyArgs) (any, error) {
			k, err := d.SenderKeys.GetSenderKey(ctx, a.Group, a.User)
			return Bytes(k), err
		}),

		// AppStateSyncKeyStore
		"PutAppStateSyncKey": device(func(ctx context.Context, d *store.Device, a syncKeyArgs) (any, error) {
			return nil, d.AppStateKeys.PutAppStateSyncKey(ctx, a.ID, store.AppStateSyncKey{Data: a.Data, Fingerprint: a.Fingerprint, Timestamp: a.Timestamp})
		}),
		"GetAppStateSyncKey": device(func(ctx context.Context, d *store.Device, a syncKeyArgs) (any, error) {
			k, err := d.AppStateKeys.GetAppStateSyncKey(ctx, a.ID)
			if k == nil {
				return nil, err
			}
			return syncKeyArgs{Data: k.Data, Fingerprint: k.Fingerprint, Timestamp: k.Timestamp}, err
		}),
		"GetLatestAppStateSyncKeyID": device(func(ctx context.Context, d *store.Device, _ struct{}) (any, error) {
			id, err := d.AppStateKeys.GetLatestAppStateSyncKeyID(ctx)
			return Bytes(id), err
		}),

		// AppStateStore
		"PutAppStateVersion": device(func(ctx context.Context, d *store.Device, a appVersionArgs) (any, error) {
			if len(a.Hash) != 128 {
				return nil, fmt.Errorf("%w: hash of %d bytes", errHarness, len(a.Hash))
			}
			return nil, d.AppState.PutAppStateVersion(ctx, a.Name, a.Version, [128]byte(a.Hash))
		}),
		"GetAppStateVersion": device(func(ctx context.Context, d *store.Device, a appVersionArgs) (any, error) {
			v, h, err := d.AppState.GetAppStateVersion(ctx, a.Name)
			return appVersionArgs{Version: v, Hash: h[:]}, err
		}),
		"DeleteAppStateVersion": device(func(ctx context.Context, d *store.Device, a appVersionArgs) (any, error) {
			return nil, d.AppState.DeleteAppStateVersion(ctx, a.Name)
		}),
		"PutAppStateMutationMACs": device(func(ctx context.Context, d *store.Device, a macsArgs) (any, error) {
			muts := make([]store.AppStateMutationMAC, len(a.Mutations))
			for i, m := range a.Mutations {
				muts[i] = store.AppStateMutationMAC{IndexMAC: m.Index, ValueMAC: m.Value}
			}
			return nil, d.AppState.PutAppStateMutationMACs(ctx, a.Name, a.Version, muts)
		}),
		"DeleteAppStateMutationMACs": device(func(ctx context.Context, d *store.Device, a macsArgs) (any, error) {
			idx := make([][]byte, len(a.Indexes))
			for i, b := range a.Indexes {
				idx[i] = b
			}
			return nil, d.AppState.DeleteAppStateMutationMACs(ctx, a.Name, idx)
		}),
		"GetAppStateMutationMAC": device(func(ctx context.Context, d *store.Device, a macArgs) (any, error) {
			v, err := d.AppState.GetAppStateMutationMAC(ctx, a.Name, a.Index)
			return Bytes(v), err
		}),

		// ContactStore
		"PutPushName": device(func(ctx context.Context, d *store.Device, a contactArgs) (any, error) {
			j, err := jid(a.JID)
			if err != nil {
				return nil, err
			}
			changed, old, err := d.Contacts.PutPushName(ctx, j, a.Name)
			return changedRes{changed, old}, err
		}),
		"PutBusinessName": device(func(ctx context.Context, d *store.Device, a contactArgs) (any, error) {
			j, err := jid(a.JID)
			if err != nil {
				return nil, err
			}
			changed, old, err := d.Contacts.PutBusinessName(ctx, j, a.Name)
			return changedRes{changed, old}, err
		}),
		"PutContactName": device(func(ctx context.Context, d *store.Device, a contactArgs) (any, error) {
			j, err := jid(a.JID)
			if err != nil {
				return nil, err
			}
			// sqlstore's implementation takes (firstName, fullName) in this order.
			return nil, d.Contacts.PutContactName(ctx, j, a.First, a.Full)
		}),
		"PutAllContactNames": device(func(ctx context.Context, d *store.Device, a contactsArgs) (any, error) {
			entries := make([]store.ContactEntry, len(a.Contacts))
			for i, c := range a.Contacts {
				j, err := jid(c.JID)
				if err != nil {
					return nil, err
				}
				entries[i] = store.ContactEntry{JID: j, FirstName: c.First, FullName: c.Full}
			}
			return nil, d.Contacts.PutAllContactNames(ctx, entries)
		}),
		"PutManyRedactedPhones": device(func(ctx context.Context, d *store.Device, a contactsArgs) (any, error) {
			entries := make([]store.RedactedPhoneEntry, len(a.Contacts))
			for i, c := range a.Contacts {
				j, err := jid(c.JID)
				if err != nil {
					return nil, err
				}
				entries[i] = store.RedactedPhoneEntry{JID: j, RedactedPhone: c.Name}
			}
			return nil, d.Contacts.PutManyRedactedPhones(ctx, entries)
		}),
		"GetContact": device(func(ctx context.Context, d *store.Device, a contactArgs) (any, error) {
			j, err := jid(a.JID)
			if err != nil {
				return nil, err
			}
			return d.Contacts.GetContact(ctx, j)
		}),
		"GetAllContacts": device(func(ctx context.Context, d *store.Device, _ struct{}) (any, error) {
			m, err := d.Contacts.GetAllContacts(ctx)
			out := make([]contactRes, 0, len(m))
			for j, info := range m {
				out = append(out, contactRes{JID: j.String(), Info: info})
			}
			sort.Slice(out, func(i, k int) bool { return out[i].JID < out[k].JID })
			return out, err
		}),

		// ChatSettingsStore
		"PutMutedUntil": device(func(ctx context.Context, d *store.Device, a chatArgs) (any, error) {
			j, err := jid(a.Chat)
			if err != nil {
				return nil, err
			}
			return nil, d.ChatSettings.PutMutedUntil(ctx, j, fromUnixMuted(a.MutedUntil))
		}),
		"PutPinned": device(func(ctx context.Context, d *store.Device, a chatArgs) (any, error) {
			j, err := jid(a.Chat)
			if err != nil {
				return nil, err
			}
			return nil, d.ChatSettings.PutPinned(ctx, j, a.Value)
		}),
		"PutArchived": device(func(ctx context.Context, d *store.Device, a chatArgs) (any, error) {
			j, err := jid(a.Chat)
			if err != nil {
				return nil, err
			}
			return nil, d.ChatSettings.PutArchived(ctx, j, a.Value)
		}),
		"GetChatSettings": device(func(ctx context.Context, d *store.Device, a chatArgs) (any, error) {
			j, err := jid(a.Chat)
			if err != nil {
				return nil, err
			}
			s, err := d.ChatSettings.GetChatSettings(ctx, j)
			return chatRes{Found: s.Found, MutedUntil: toUnixMuted(s.MutedUntil), Pinned: s.Pinned, Archived: s.Archived}, err
		}),

		// MsgSecretStore
		"PutMessageSecret": device(func(ctx context.Context, d *store.Device, a secretArgs) (any, error) {
			chat, sender, err := jid2(a.Chat, a.Sender)
			if err != nil {
				return nil, err
			}
			return nil, d.MsgSecrets.PutMessageSecret(ctx, chat, sender, a.ID, a.Secret)
		}),
		"PutMessageSecrets": device(func(ctx context.Context, d *store.Device, a secretsArgs) (any, error) {
			ins := make([]store.MessageSecretInsert, len(a.Secrets))
			for i, s := range a.Secrets {
				chat, sender, err := jid2(s.Chat, s.Sender)
				if err != nil {
					return nil, err
				}
				ins[i] = store.MessageSecretInsert{Chat: chat, Sender: sender, ID: s.ID, Secret: s.Secret}
			}
			return nil, d.MsgSecrets.PutMessageSecrets(ctx, ins)
		}),
		"GetMessageSecret": device(func(ctx context.Context, d *store.Device, a secretArgs) (any, error) {
			chat, sender, err := jid2(a.Chat, a.Sender)
			if err != nil {
				return nil, err
			}
			secret, real, err := d.MsgSecrets.GetMessageSecret(ctx, chat, sender, a.ID)
			return secretArgs{Secret: secret, Sender: jidString(real)}, err
		}),

		// PrivacyTokenStore
		"PutPrivacyTokens": device(func(ctx context.Context, d *store.Device, a tokensArgs) (any, error) {
			toks := make([]store.PrivacyToken, len(a.Tokens))
			for i, t := range a.Tokens {
				j, err := jid(t.User)
				if err != nil {
					return nil, err
				}
				toks[i] = store.PrivacyToken{User: j, Token: t.Token, Timestamp: time.Unix(t.Timestamp, 0)}
			}
			return nil, d.PrivacyTokens.PutPrivacyTokens(ctx, toks...)
		}),
		"GetPrivacyToken": device(func(ctx context.Context, d *store.Device, a tokenArg) (any, error) {
			j, err := jid(a.User)
			if err != nil {
				return nil, err
			}
			t, err := d.PrivacyTokens.GetPrivacyToken(ctx, j)
			if t == nil {
				return nil, err
			}
			return tokenArg{User: jidString(t.User), Token: t.Token, Timestamp: t.Timestamp.Unix()}, err
		}),

		// EventBuffer
		"GetBufferedEvent": device(func(ctx context.Context, d *store.Device, a bufArgs) (any, error) {
			h, err := key32(a.Hash)
			if err != nil {
				return nil, err
			}
			ev, err := d.EventBuffer.GetBufferedEvent(ctx, h)
			if ev == nil {
				return nil, err
			}
			// The insert time is the clock at insertion: only its plausibility
			// is comparable between two runs.
			age := time.Since(ev.InsertTime)
			return bufRes{Plaintext: ev.Plaintext, ServerTime: ev.ServerTime.Unix(), InsertTimeRecent: age > -time.Minute && age < 24*time.Hour}, err
		}),
		"PutBufferedEvent": device(func(ctx context.Context, d *store.Device, a bufArgs) (any, error) {
			h, err := key32(a.Hash)
			if err != nil {
				return nil, err
			}
			return nil, d.EventBuffer.PutBufferedEvent(ctx, h, a.Plaintext, time.Unix(a.ServerTime, 0))
		}),
		"ClearBufferedEventPlaintext": device(func(ctx context.Context, d *store.Device, a bufArgs) (any, error) {
			h, err := key32(a.Hash)
			if err != nil {
				return nil, err
			}
			return nil, d.EventBuffer.ClearBufferedEventPlaintext(ctx, h)
		}),
		"DeleteOldBufferedHashes": device(func(ctx context.Context, d *store.Device, _ struct{}) (any, error) {
			return nil, d.EventBuffer.DeleteOldBufferedHashes(ctx)
		}),
		"DoDecryptionTxn": deviceEnv(doDecryptionTxn),

		// LIDStore (global: run through the slot's device, shared by all)
		"PutLIDMapping": device(func(ctx context.Context, d *store.Device, a lidMapArgs) (any, error) {
			lid, pn, err := jid2(a.LID, a.PN)
			if err != nil {
				return nil, err
			}
			return nil, d.LIDs.PutLIDMapping(ctx, lid, pn)
		}),
		"PutManyLIDMappings": device(func(ctx context.Context, d *store.Device, a lidMapsArgs) (any, error) {
			ms := make([]store.LIDMapping, len(a.Mappings))
			for i, m := range a.Mappings {
				lid, pn, err := jid2(m.LID, m.PN)
				if err != nil {
					return nil, err
				}
				ms[i] = store.LIDMapping{LID: lid, PN: pn}
			}
			return nil, d.LIDs.PutManyLIDMappings(ctx, ms)
		}),
		"GetPNForLID": device(func(ctx context.Context, d *store.Device, a lidMapArgs) (any, error) {
			lid, err := jid(a.LID)
			if err != nil {
				return nil, err
			}
			pn, err := d.LIDs.GetPNForLID(ctx, lid)
			return jidString(pn), err
		}),
		"GetLIDForPN": device(func(ctx context.Context, d *store.Device, a lidMapArgs) (any, error) {
			pn, err := jid(a.PN)
			if err != nil {
				return nil, err
			}
			lid, err := d.LIDs.GetLIDForPN(ctx, pn)
			return jidString(lid), err
		}),
		"GetManyLIDsForPNs": device(func(ctx context.Context, d *store.Device, a jidsArgs) (any, error) {
			pns := make([]types.JID, len(a.JIDs))
			for i, s := range a.JIDs {
				j, err := jid(s)
				if err != nil {
					return nil, err
				}
				pns[i] = j
			}
			m, err := d.LIDs.GetManyLIDsForPNs(ctx, pns)
			out := make([][2]string, 0, len(m))
			for pn, lid := range m {
				out = append(out, [2]string{pn.String(), lid.String()})
			}
			sort.Slice(out, func(i, k int) bool { return out[i][0] < out[k][0] })
			return out, err
		}),

		// Container
		"NewDevice":      newDevice,
		"PutDevice":      putDevice,
		"GetFirstDevice": getFirstDevice,
		"GetDevice":      getDevice,
		"GetAllDevices":  getAllDevices,
		"DeleteDevice":   deleteDevice,
		"Reopen":         reopen,
	}
}

// device adapts a method of one slot's stores: it decodes the arguments and
// finds the slot's device.
func device[A any](fn func(ctx context.Context, d *store.Device, a A) (any, error)) opFunc {
	return deviceEnv(func(ctx context.Context, _ *Env, _ int, d *store.Device, a A) (any, error) {
		return fn(ctx, d, a)
	})
}

func deviceEnv[A any](fn func(ctx context.Context, e *Env, dev int, d *store.Device, a A) (any, error)) opFunc {
	return func(ctx context.Context, e *Env, dev int, raw json.RawMessage) (any, error) {
		var a A
		if err := decodeArgs(raw, &a); err != nil {
			return nil, err
		}
		d, err := e.device(dev)
		if err != nil {
			return nil, err
		}
		return fn(ctx, e, dev, d, a)
	}
}

func decodeArgs(raw json.RawMessage, into any) error {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return fmt.Errorf("%w: arguments %s: %v", errHarness, raw, err)
	}
	return nil
}

func key32(b Bytes) ([32]byte, error) {
	if len(b) != 32 {
		return [32]byte{}, fmt.Errorf("%w: want 32 bytes, got %d", errHarness, len(b))
	}
	return [32]byte(b), nil
}

func jid(s string) (types.JID, error) {
	if s == "" {
		return types.EmptyJID, nil
	}
	j, err := types.ParseJID(s)
	if err != nil {
		return j, fmt.Errorf("%w: jid %q: %v", errHarness, s, err)
	}
	return j, nil
}

func jid2(a, b string) (types.JID, types.JID, error) {
	ja, err := jid(a)
	if err != nil {
		return ja, types.EmptyJID, err
	}
	jb, err := jid(b)
	return ja, jb, err
}

func jidString(j types.JID) string {
	if j.IsEmpty() {
		return ""
	}
	return j.String()
}

func fromUnixMuted(u int64) time.Time {
	switch {
	case u < 0:
		return store.MutedForever
	case u == 0:
		return time.Time{}
	default:
		return time.Unix(u, 0)
	}
}

func toUnixMuted(t time.Time) int64 {
	switch {
	case t.Equal(store.MutedForever):
		return -1
	case t.IsZero():
		return 0
	default:
		return t.Unix()
	}
}

// preKey describes a prekey by its ID and whether its private key is the one
// this slot was handed for that ID before; then it remembers the key. Key
// bytes are random, so they are never recorded.
func (e *Env) preKey(dev int, k *keys.PreKey) preKeyRes {
	prev, ok := e.prekeys[dev][k.KeyID]
	known := ok && prev == *k.Priv
	e.prekeys[dev][k.KeyID] = *k.Priv
	return preKeyRes{ID: k.KeyID, Known: known}
}

func doDecryptionTxn(ctx context.Context, e *Env, dev int, d *store.Device, a txnArgs) (any, error) {
	var res txnRes
	var harness error
	err := d.EventBuffer.DoDecryptionTxn(ctx, func(ctx context.Context) error {
		for _, st := range a.Steps {
			if !txnSteps[st.Op] {
				harness = fmt.Errorf("%w: %s inside DoDecryptionTxn", errHarness, st.Op)
				return harness
			}
			out, err := e.call(ctx, ops[st.Op], dev, st.Args)
			if errors.Is(err, errHarness) {
				harness = err
				return err
			}
			data, encErr := json.Marshal(out)
			if encErr != nil {
				harness = fmt.Errorf("%w: encode %s: %v", errHarness, st.Op, encErr)
				return harness
			}
			res.Steps = append(res.Steps, stepRes{Op: st.Op, Res: data, Failed: err != nil})
			if err != nil {
				return err
			}
		}
		if a.Fail {
			return errInjected
		}
		return nil
	})
	if harness != nil {
		return nil, harness
	}
	return res, err
}

func newDevice(_ context.Context, e *Env, dev int, raw json.RawMessage) (any, error) {
	var a newDeviceArgs
	if err := decodeArgs(raw, &a); err != nil {
		return nil, err
	}
	if dev < 0 || dev >= len(e.slots) {
		return nil, fmt.Errorf("%w: slot %d out of range", errHarness, dev)
	}
	noise, err1 := key32(a.Noise)
	ident, err2 := key32(a.Identity)
	spk, err3 := key32(a.SignedPreKey)
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, err
	}
	if len(a.Signature) != 64 {
		return nil, fmt.Errorf("%w: signature of %d bytes", errHarness, len(a.Signature))
	}
	d := e.c.NewDevice()
	// Fresh key material is random: record only its shape and validity.
	res := newDeviceRes{IDNil: d.ID == nil, Initialized: d.Initialized}
	if d.NoiseKey != nil && d.IdentityKey != nil && d.SignedPreKey != nil && d.SignedPreKey.Signature != nil {
		res.KeysDistinct = *d.NoiseKey.Priv != *d.IdentityKey.Priv && *d.IdentityKey.Priv != *d.SignedPreKey.Priv
		res.SignedPreKeyID = d.SignedPreKey.KeyID
		msg := append([]byte{ecc.DjbType}, d.SignedPreKey.Pub[:]...)
		res.SignatureValid = ecc.VerifySignature(ecc.NewDjbECPublicKey(*d.IdentityKey.Pub), msg, *d.SignedPreKey.Signature)
	}
	res.AdvSecretLen = len(d.AdvSecretKey)
	// Then replace it with the trace's seeded material so that every later
	// read of the device is comparable byte for byte.
	d.NoiseKey = keys.NewKeyPairFromPrivateKey(noise)
	d.IdentityKey = keys.NewKeyPairFromPrivateKey(ident)
	sig := [64]byte(a.Signature)
	d.SignedPreKey = &keys.PreKey{KeyPair: *keys.NewKeyPairFromPrivateKey(spk), KeyID: 1, Signature: &sig}
	d.RegistrationID = a.RegistrationID
	d.AdvSecretKey = a.AdvSecret
	e.slots[dev], e.saved[dev] = d, false
	e.prekeys[dev] = make(map[uint32][32]byte)
	return res, nil
}

func putDevice(ctx context.Context, e *Env, dev int, raw json.RawMessage) (any, error) {
	var a putDeviceArgs
	if err := decodeArgs(raw, &a); err != nil {
		return nil, err
	}
	if dev < 0 || dev >= len(e.slots) || e.slots[dev] == nil {
		return nil, fmt.Errorf("%w: slot %d has no device", errHarness, dev)
	}
	d := e.slots[dev]
	if a.NoID {
		d.ID = nil
	} else {
		id, lid, err := jid2(a.ID, a.LID)
		if err != nil {
			return nil, err
		}
		fb, err := uuid.Parse(a.FacebookUUID)
		if err != nil {
			return nil, fmt.Errorf("%w: uuid %q: %v", errHarness, a.FacebookUUID, err)
		}
		d.ID, d.LID = &id, lid
		d.Platform, d.BusinessName, d.PushName = a.Platform, a.BusinessName, a.PushName
		d.LIDMigrationTimestamp = a.LIDMigrationTS
		d.FacebookUUID = fb
		d.Account = &waAdv.ADVSignedDeviceIdentity{
			Details: a.Account.Details, AccountSignature: a.Account.Sig,
			AccountSignatureKey: a.Account.SigKey, DeviceSignature: a.Account.DeviceSig,
		}
	}
	err := e.c.PutDevice(ctx, d)
	if err == nil && d.ID != nil {
		e.saved[dev] = true
	}
	return nil, err
}

func getFirstDevice(ctx context.Context, e *Env, _ int, _ json.RawMessage) (any, error) {
	all, err := e.c.GetAllDevices(ctx)
	if err != nil {
		return nil, err
	}
	d, err := e.c.GetFirstDevice(ctx)
	if err != nil || d == nil {
		return nil, err
	}
	// Which device comes first among several is the SQL row order, which no
	// other store can match: compare it only when it is determined.
	res := firstDeviceRes{Fresh: d.ID == nil, Count: len(all)}
	if !res.Fresh {
		if len(all) == 1 {
			rec := record(d)
			res.Device = &rec
		}
		for _, o := range all {
			if o.ID != nil && *o.ID == *d.ID {
				res.Member = true
			}
		}
	}
	return res, nil
}

func getDevice(ctx context.Context, e *Env, _ int, raw json.RawMessage) (any, error) {
	var a jidsArgs
	if err := decodeArgs(raw, &a); err != nil {
		return nil, err
	}
	if len(a.JIDs) != 1 {
		return nil, fmt.Errorf("%w: GetDevice wants one jid", errHarness)
	}
	j, err := jid(a.JIDs[0])
	if err != nil {
		return nil, err
	}
	d, err := e.c.GetDevice(ctx, j)
	if d == nil {
		return nil, err
	}
	rec := record(d)
	return &rec, err
}

func getAllDevices(ctx context.Context, e *Env, _ int, _ json.RawMessage) (any, error) {
	all, err := e.c.GetAllDevices(ctx)
	out := make([]deviceRec, 0, len(all))
	for _, d := range all {
		out = append(out, record(d))
	}
	sort.Slice(out, func(i, k int) bool { return out[i].ID < out[k].ID })
	return out, err
}

func deleteDevice(ctx context.Context, e *Env, dev int, raw json.RawMessage) (any, error) {
	var a jidsArgs
	if err := decodeArgs(raw, &a); err != nil {
		return nil, err
	}
	if dev >= len(e.slots) {
		return nil, fmt.Errorf("%w: slot %d out of range", errHarness, dev)
	}
	if dev < 0 {
		// A device object that was never stored (or has no ID).
		tmp := &store.Device{}
		if len(a.JIDs) == 1 && a.JIDs[0] != "" {
			j, err := jid(a.JIDs[0])
			if err != nil {
				return nil, err
			}
			tmp.ID = &j
		}
		return nil, e.c.DeleteDevice(ctx, tmp)
	}
	d := e.slots[dev]
	if d == nil {
		return nil, fmt.Errorf("%w: slot %d has no device", errHarness, dev)
	}
	err := e.c.DeleteDevice(ctx, d)
	if err == nil {
		e.slots[dev], e.saved[dev] = nil, false
	}
	return nil, err
}

// reopen closes the container and opens it again, then loads every saved slot
// by its JID: the result is what survived.
func reopen(ctx context.Context, e *Env, _ int, _ json.RawMessage) (any, error) {
	if err := e.c.Close(); err != nil {
		return nil, fmt.Errorf("close: %w", err)
	}
	c, err := e.open(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: reopen: %v", errHarness, err)
	}
	e.c = c
	out := make([]*deviceRec, len(e.slots))
	for i, d := range e.slots {
		if d == nil || !e.saved[i] {
			e.slots[i], e.saved[i] = nil, false
			continue
		}
		got, err := c.GetDevice(ctx, *d.ID)
		if err != nil {
			return out, fmt.Errorf("get device of slot %d: %w", i, err)
		}
		e.slots[i], e.saved[i] = got, got != nil
		if got != nil {
			rec := record(got)
			out[i] = &rec
		}
	}
	return out, nil
}

func record(d *store.Device) deviceRec {
	r := deviceRec{
		LID: jidString(d.LID), RegistrationID: d.RegistrationID, AdvSecret: d.AdvSecretKey,
		Platform: d.Platform, BusinessName: d.BusinessName, PushName: d.PushName,
		LIDMigrationTS: d.LIDMigrationTimestamp, FacebookUUID: d.FacebookUUID.String(),
	}
	if d.ID != nil {
		r.ID = d.ID.String()
	}
	if d.NoiseKey != nil {
		r.Noise = d.NoiseKey.Priv[:]
	}
	if d.IdentityKey != nil {
		r.Identity = d.IdentityKey.Priv[:]
	}
	if d.SignedPreKey != nil {
		r.SignedPreKey, r.SignedPreKeyID = d.SignedPreKey.Priv[:], d.SignedPreKey.KeyID
		if d.SignedPreKey.Signature != nil {
			r.Signature = d.SignedPreKey.Signature[:]
		}
	}
	if d.Account != nil {
		r.Account = accountArgs{Details: d.Account.Details, Sig: d.Account.AccountSignature, SigKey: d.Account.AccountSignatureKey, DeviceSig: d.Account.DeviceSignature}
	}
	return r
}

func sortStrings(s []string) { sort.Strings(s) }
