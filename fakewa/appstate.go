//go:build !js

package fakewa

import (
	"context"
	"crypto/rand"
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

// The phone's app state is one patch: the push name in critical_block. A
// companion gets the app state key from the phone right after pairing,
// fetches the collections, and so learns its push name (which whatsmeow
// needs to send presence).

// initAppState makes the phone's app state key and, with a push name, the
// critical_block patch that sets it.
func (p *phone) initAppState(pushName string) error {
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
	if pushName == "" {
		return nil
	}
	raw, err := appstate.NewProcessor(p.dev, waLog.Noop).EncodePatch(ctx, p.appKeyID, appstate.HashState{}, appstate.BuildSettingPushName(pushName))
	if err != nil {
		return fmt.Errorf("encoding the push name patch: %w", err)
	}
	var patch waServerSync.SyncdPatch
	if err = proto.Unmarshal(raw, &patch); err != nil {
		return err
	}
	// The server numbers patches; the MACs were made for version 1.
	patch.Version = &waServerSync.SyncdVersion{Version: proto.Uint64(1)}
	p.criticalBlock, err = proto.Marshal(&patch)
	return err
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

// handleAppStateSync answers w:sync:app:state: critical_block holds the push
// name patch; every other collection is empty.
func (s *Server) handleAppStateSync(d *device, node *waBinary.Node) waBinary.Node {
	var out []waBinary.Node
	sync := node.GetChildByTag("sync")
	for _, coll := range sync.GetChildren() {
		name, _ := coll.Attrs["name"].(string)
		from, _ := coll.AttrGetter().GetUint64("version", false)
		attrs := waBinary.Attrs{"name": name, "version": "0"}
		var content []waBinary.Node
		if patch := d.acct.phone.criticalBlock; name == string(appstate.WAPatchCriticalBlock) && patch != nil {
			attrs["version"] = "1"
			if from < 1 {
				content = []waBinary.Node{{Tag: "patches", Content: []waBinary.Node{{Tag: "patch", Content: patch}}}}
			}
		}
		out = append(out, waBinary.Node{Tag: "collection", Attrs: attrs, Content: content})
	}
	return iqResult(node, waBinary.Node{Tag: "sync", Content: out})
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
