//go:build !js

package fakewa

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"

	"go.mau.fi/whatsmeow/appstate"
	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/proto/waLidMigrationSyncPayload"
	"go.mau.fi/whatsmeow/proto/waServerSync"
	"go.mau.fi/whatsmeow/store"
	waLog "go.mau.fi/whatsmeow/util/log"
)

// The phone's app state: one key, shared with each new companion right after
// pairing, and the five collections, which the phone writes as a client
// does (whatsmeow's appstate Processor: EncodePatch, then DecodePatches to
// move its own hash state on) and the service keeps (syncdCollections,
// appsync.go). A companion fetches every collection after the key share;
// whatsmeow needs the push name from critical_block to send presence.

// initAppState makes the phone's app state key and its first state: the
// push name (critical_block), the address book (critical_unblock_low) and
// the link preview privacy setting (regular). regular_high (mutes) and
// regular_low (pins, archives) fill as the phone changes chats.
func (p *phone) initAppState(s *Server, pushName string, contacts int) error {
	ctx := context.Background()
	p.appKeyID = make([]byte, 6)
	_, _ = rand.Read(p.appKeyID[4:])
	p.appKeyData = make([]byte, 32)
	_, _ = rand.Read(p.appKeyData)
	p.appKeyTime = time.Now().UnixMilli()
	fingerprint, err := proto.Marshal(p.fingerprint())
	if err != nil {
		return err
	}
	if err = p.dev.AppStateKeys.PutAppStateSyncKey(ctx, p.appKeyID, store.AppStateSyncKey{
		Data: p.appKeyData, Fingerprint: fingerprint, Timestamp: p.appKeyTime,
	}); err != nil {
		return err
	}
	if pushName != "" {
		if _, err = p.writeAppState(s, appstate.BuildSettingPushName(pushName)); err != nil {
			return fmt.Errorf("push name: %w", err)
		}
	}
	if book := p.generateContacts(contacts); len(book) > 0 {
		if _, err = p.writeAppState(s, contactsPatch(book)); err != nil {
			return fmt.Errorf("contacts: %w", err)
		}
	}
	if _, err = p.writeAppState(s, linkPreviewSetting(false)); err != nil {
		return fmt.Errorf("link preview setting: %w", err)
	}
	return nil
}

// writeAppState has the phone encode one patch on top of its current state,
// apply it to its own state, and hand it to the service. It returns the
// collection's new version; the caller tells the companions
// (notifyAppStateChanged), not under Server.mu.
func (p *phone) writeAppState(s *Server, info appstate.PatchInfo) (uint64, error) {
	ctx := context.Background()
	p.appMu.Lock()
	defer p.appMu.Unlock()
	proc := appstate.NewProcessor(p.dev, waLog.Noop)
	version, hash, err := p.dev.AppState.GetAppStateVersion(ctx, string(info.Type))
	if err != nil {
		return 0, err
	}
	state := appstate.HashState{Version: version, Hash: hash}
	raw, err := proc.EncodePatch(ctx, p.appKeyID, state, info)
	if err != nil {
		return 0, fmt.Errorf("encoding a %s patch: %w", info.Type, err)
	}
	var patch waServerSync.SyncdPatch
	if err = proto.Unmarshal(raw, &patch); err != nil {
		return 0, err
	}
	// The MACs were made for the next version; the server numbers patches.
	patch.Version = &waServerSync.SyncdVersion{Version: proto.Uint64(version + 1)}
	// On a copy: decoding decrypts the mutation values in place.
	own := proto.Clone(&patch).(*waServerSync.SyncdPatch)
	list := &appstate.PatchList{Name: info.Type, Patches: []*waServerSync.SyncdPatch{own}}
	if _, _, err = proc.DecodePatches(ctx, list, state, true); err != nil {
		return 0, fmt.Errorf("applying its own %s patch: %w", info.Type, err)
	}
	if err = p.syncd.add(s, info.Type, &patch); err != nil {
		return 0, err
	}
	return version + 1, nil
}

var errAppStateConflict = errors.New("patch is not based on the collection's current version")

// applyUpload takes a companion's patch, made on top of version from, as the
// collection's next version: the phone verifies and applies it to its own
// state, then the service stores it. It returns the new version.
func (p *phone) applyUpload(s *Server, name appstate.WAPatchName, from uint64, patch *waServerSync.SyncdPatch) (uint64, error) {
	ctx := context.Background()
	p.appMu.Lock()
	defer p.appMu.Unlock()
	version, hash, err := p.dev.AppState.GetAppStateVersion(ctx, string(name))
	if err != nil {
		return 0, err
	}
	if from != version {
		return 0, errAppStateConflict
	}
	patch.Version = &waServerSync.SyncdVersion{Version: proto.Uint64(version + 1)}
	patch.ExternalMutations = nil
	own := proto.Clone(patch).(*waServerSync.SyncdPatch)
	list := &appstate.PatchList{Name: name, Patches: []*waServerSync.SyncdPatch{own}}
	if _, _, err = appstate.NewProcessor(p.dev, waLog.Noop).DecodePatches(ctx, list, appstate.HashState{Version: version, Hash: hash}, true); err != nil {
		return 0, err
	}
	if err = p.syncd.add(s, name, patch); err != nil {
		return 0, err
	}
	return version + 1, nil
}

func (p *phone) fingerprint() *waE2E.AppStateSyncKeyFingerprint {
	return &waE2E.AppStateSyncKeyFingerprint{RawID: proto.Uint32(p.acct.rawID), CurrentIndex: proto.Uint32(0), DeviceIndexes: []uint32{0}}
}

// shareAppStateKey queues, for a new companion, the phone's peer message
// carrying the app state key.
func (p *phone) shareAppStateKey(s *Server, d *device) {
	p.sendPeer(s, d, &waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{
		Type: waE2E.ProtocolMessage_APP_STATE_SYNC_KEY_SHARE.Enum(),
		AppStateSyncKeyShare: &waE2E.AppStateSyncKeyShare{Keys: []*waE2E.AppStateSyncKey{{
			KeyID:   &waE2E.AppStateSyncKeyId{KeyID: p.appKeyID},
			KeyData: &waE2E.AppStateSyncKeyData{KeyData: p.appKeyData, Fingerprint: p.fingerprint(), Timestamp: proto.Int64(p.appKeyTime)},
		}}},
	}})
}

// sendPeer queues a peer protocol message from the phone for one companion.
func (p *phone) sendPeer(s *Server, d *device, msg *waE2E.Message) {
	plain, err := proto.Marshal(msg)
	if err == nil {
		var enc waBinary.Node
		if enc, err = p.encryptFor(s, d, plain); err == nil {
			s.deliver(d, waBinary.Node{Tag: "message", Attrs: waBinary.Attrs{
				"from": p.acct.JID, "id": newMessageID(), "t": strconv.FormatInt(time.Now().Unix(), 10),
				"type": "text", "category": "peer",
			}, Content: []waBinary.Node{enc}})
		}
	}
	if err != nil {
		s.log.Errorf("phone %s: peer message to %s: %v", p.acct.Phone, d.JID, err)
	}
}

// sendLIDMigration sends a new companion the phone's LID migration sync
// (ProtocolMessage LID_MIGRATION_MAPPING_SYNC): the PN-LID mappings of the
// account and the accounts it chats with, and the chat DB migration time,
// which makes whatsmeow send to LIDs (Store.LIDMigrationTimestamp).
func (p *phone) sendLIDMigration(s *Server, d *device) {
	s.mu.Lock()
	payload := &waLidMigrationSyncPayload.LIDMigrationMappingSyncPayload{ChatDbMigrationTimestamp: proto.Uint64(uint64(time.Now().Unix()))}
	for _, a := range s.accounts {
		if a != p.acct && !s.chats[chatKey(a, p.acct)] {
			continue
		}
		pn, _ := strconv.ParseUint(a.Phone, 10, 64)
		lid, _ := strconv.ParseUint(a.LID.User, 10, 64)
		payload.PnToLidMappings = append(payload.PnToLidMappings, &waLidMigrationSyncPayload.LIDMigrationMapping{Pn: proto.Uint64(pn), AssignedLid: proto.Uint64(lid)})
	}
	s.mu.Unlock()
	encoded, err := proto.Marshal(payload)
	if err != nil {
		s.log.Errorf("phone %s: LID migration payload: %v", p.acct.Phone, err)
		return
	}
	p.sendPeer(s, d, &waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{
		Type:                           waE2E.ProtocolMessage_LID_MIGRATION_MAPPING_SYNC.Enum(),
		LidMigrationMappingSyncMessage: &waE2E.LIDMigrationMappingSyncMessage{EncodedMappingPayload: encoded},
	}})
}
