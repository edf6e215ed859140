//go:build !js

package fakewa

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/appstate"
	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/proto/waServerSync"
	"go.mau.fi/whatsmeow/types"
)

// The service's side of app state sync (w:sync:app:state). The service
// cannot read app state: it keeps each collection's patches and, from them,
// the current encrypted records by index MAC. A full sync
// (<collection name return_snapshot="true"/>) gets the current version as a
// snapshot, always an external blob (whatsmeow appstate/decode.go
// parseSnapshotInternal only reads <snapshot> as an ExternalBlobReference),
// whose MAC is the snapshotMac of the patch that made that version (the LTHash
// of a state is the sum over its records, so it does not depend on how they
// were reached). An incremental sync (<collection name version="V"/>) gets
// the patches after V; a patch whose mutations exceed inlinePatchLimit
// travels as externalMutations, a blob of SyncdMutations (decode.go
// parsePatchListInternal). Blobs are encrypted with the "WhatsApp App State
// Keys" (whatsmeow download.go MediaAppState, mms type md-app-state).

// inlinePatchLimit is the size of mutations above which a patch's mutations
// go to an external blob. The service's own threshold is not public.
const inlinePatchLimit = 1024

// AppStateCollections are the five collections, in whatsmeow's order.
var AppStateCollections = appstate.AllPatchNames

// syncdCollections is the service's copy of one account's app state (the
// zero value is ready; its own lock).
type syncdCollections struct {
	mu    sync.Mutex
	colls map[appstate.WAPatchName]*syncdCollection
}

type syncdCollection struct {
	version     uint64
	patches     []*waServerSync.SyncdPatch           // as served: inline or with externalMutations
	records     map[string]*waServerSync.SyncdRecord // current records by index MAC
	snapshotMAC []byte                               // of the current version
	keyID       []byte
	snapshot    []byte // the current version's ExternalBlobReference, once uploaded
}

// add takes the phone's patch (version set, mutations inline) as the next
// version of the collection.
func (sc *syncdCollections) add(s *Server, name appstate.WAPatchName, patch *waServerSync.SyncdPatch) error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.colls == nil {
		sc.colls = make(map[appstate.WAPatchName]*syncdCollection)
	}
	c := sc.colls[name]
	if c == nil {
		c = &syncdCollection{records: make(map[string]*waServerSync.SyncdRecord)}
		sc.colls[name] = c
	}
	if v := patch.GetVersion().GetVersion(); v != c.version+1 {
		return fmt.Errorf("%s patch has version %d, the collection is at %d", name, v, c.version)
	}
	for _, m := range patch.GetMutations() {
		key := string(m.GetRecord().GetIndex().GetBlob())
		if m.GetOperation() == waServerSync.SyncdMutation_REMOVE {
			delete(c.records, key)
		} else {
			c.records[key] = m.GetRecord()
		}
	}
	served := proto.Clone(patch).(*waServerSync.SyncdPatch)
	mutations := &waServerSync.SyncdMutations{Mutations: patch.GetMutations()}
	if proto.Size(mutations) > inlinePatchLimit {
		ref, err := s.uploadAppStateBlob(mutations)
		if err != nil {
			return fmt.Errorf("uploading the mutations of %s v%d: %w", name, c.version+1, err)
		}
		served.Mutations, served.ExternalMutations = nil, ref
	}
	c.patches = append(c.patches, served)
	c.version++
	c.snapshotMAC, c.keyID = patch.GetSnapshotMAC(), patch.GetKeyID().GetID()
	c.snapshot = nil
	return nil
}

// versions lists each collection's version.
func (sc *syncdCollections) versions() map[string]uint64 {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	out := make(map[string]uint64, len(AppStateCollections))
	for _, name := range AppStateCollections {
		if c := sc.colls[name]; c != nil {
			out[string(name)] = c.version
		} else {
			out[string(name)] = 0
		}
	}
	return out
}

// answer is one <collection> of a sync answer.
func (sc *syncdCollections) answer(s *Server, name appstate.WAPatchName, from uint64, wantSnapshot bool) (waBinary.Node, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	c := sc.colls[name]
	out := waBinary.Node{Tag: "collection", Attrs: waBinary.Attrs{"name": string(name), "version": "0"}}
	if c == nil || c.version == 0 {
		return out, nil
	}
	out.Attrs["version"] = strconv.FormatUint(c.version, 10)
	if wantSnapshot {
		if c.snapshot == nil {
			ref, err := s.uploadAppStateBlob(c.snapshotLocked())
			if err != nil {
				return out, fmt.Errorf("uploading the %s snapshot: %w", name, err)
			}
			if c.snapshot, err = proto.Marshal(ref); err != nil {
				return out, err
			}
		}
		out.Content = []waBinary.Node{{Tag: "snapshot", Content: c.snapshot}}
		return out, nil
	}
	var patches []waBinary.Node
	for _, p := range c.patches {
		if p.GetVersion().GetVersion() <= from {
			continue
		}
		raw, err := proto.Marshal(p)
		if err != nil {
			return out, err
		}
		patches = append(patches, waBinary.Node{Tag: "patch", Content: raw})
	}
	if len(patches) > 0 {
		out.Content = []waBinary.Node{{Tag: "patches", Content: patches}}
	}
	return out, nil
}

// snapshotLocked is the collection's current records as a SyncdSnapshot,
// ordered by index MAC.
func (c *syncdCollection) snapshotLocked() *waServerSync.SyncdSnapshot {
	records := make([]*waServerSync.SyncdRecord, 0, len(c.records))
	for _, r := range c.records {
		records = append(records, r)
	}
	sort.Slice(records, func(i, j int) bool {
		return bytes.Compare(records[i].GetIndex().GetBlob(), records[j].GetIndex().GetBlob()) < 0
	})
	return &waServerSync.SyncdSnapshot{
		Version: &waServerSync.SyncdVersion{Version: proto.Uint64(c.version)},
		Records: records, Mac: c.snapshotMAC, KeyID: &waServerSync.KeyId{ID: c.keyID},
	}
}

// uploadAppStateBlob encrypts a snapshot or mutation list onto the media
// host and returns the reference to it.
func (s *Server) uploadAppStateBlob(msg proto.Message) (*waServerSync.ExternalBlobReference, error) {
	plain, err := proto.Marshal(msg)
	if err != nil {
		return nil, err
	}
	enc, err := encryptMedia(plain, whatsmeow.MediaAppState)
	if err != nil {
		return nil, err
	}
	direct := s.storeBlob("md-app-state", enc.blob)
	return &waServerSync.ExternalBlobReference{
		MediaKey: enc.mediaKey, DirectPath: proto.String(direct), FileSizeBytes: proto.Uint64(enc.fileLength),
		FileSHA256: enc.fileSHA256, FileEncSHA256: enc.fileEncSHA256,
	}, nil
}

// handleAppStateSync answers w:sync:app:state: for each <collection>, its
// snapshot (return_snapshot="true") or its patches after "version".
func (s *Server) handleAppStateSync(d *device, node *waBinary.Node) waBinary.Node {
	var out []waBinary.Node
	sync := node.GetChildByTag("sync")
	for _, coll := range sync.GetChildren() {
		ag := coll.AttrGetter()
		name := appstate.WAPatchName(ag.OptionalString("name"))
		from, _ := ag.GetUint64("version", false)
		wantSnapshot := ag.OptionalBool("return_snapshot")
		var answer waBinary.Node
		var err error
		if patch, ok := coll.GetOptionalChildByTag("patch"); ok {
			answer, err = s.takeAppStatePatch(d, name, from, patch)
		} else {
			answer, err = d.acct.phone.syncd.answer(s, name, from, wantSnapshot)
		}
		if err != nil {
			s.log.Errorf("%s: app state %s: %v", d.JID, name, err)
			answer = appStateError(name, 500, "internal-server-error")
		}
		out = append(out, answer)
	}
	return iqResult(node, waBinary.Node{Tag: "sync", Content: out})
}

// takeAppStatePatch is a companion's upload, <collection name version=V>
// <patch/>: taken as version V+1 if V is the collection's version; else 409
// with the patches after V, which whatsmeow applies before it retries
// (appstate.go sendAppState). The phone applies it to its own state; a
// patch the phone cannot verify is refused with 400 (the real service
// cannot read patches; fakewa's phone must, to write after it).
func (s *Server) takeAppStatePatch(d *device, name appstate.WAPatchName, from uint64, node waBinary.Node) (waBinary.Node, error) {
	raw, _ := node.Content.([]byte)
	var patch waServerSync.SyncdPatch
	if err := proto.Unmarshal(raw, &patch); err != nil || !wellFormedMutations(patch.GetMutations()) {
		return appStateError(name, 400, "bad-request"), nil
	}
	version, err := d.acct.phone.applyUpload(s, name, from, &patch)
	switch {
	case errors.Is(err, errAppStateConflict):
		answer, err := d.acct.phone.syncd.answer(s, name, from, false)
		if err != nil {
			return answer, err
		}
		conflict := appStateError(name, 409, "conflict")
		conflict.Content = append(conflict.GetChildren(), answer.GetChildren()...)
		return conflict, nil
	case err != nil:
		s.log.Warnf("%s: app state %s patch refused: %v", d.JID, name, err)
		return appStateError(name, 400, "bad-request"), nil
	}
	s.log.Infof("%s: app state %s now at version %d", d.JID, name, version)
	s.notifyAppStateChanged(d.acct, name, version, d)
	return waBinary.Node{Tag: "collection", Attrs: waBinary.Attrs{"name": string(name), "version": strconv.FormatUint(version, 10)}}, nil
}

// wellFormedMutations checks the shapes whatsmeow's decoder slices without
// checking: an index MAC, and a value of IV, whole AES blocks and a 32-byte MAC.
func wellFormedMutations(mutations []*waServerSync.SyncdMutation) bool {
	for _, m := range mutations {
		value := m.GetRecord().GetValue().GetBlob()
		if len(m.GetRecord().GetIndex().GetBlob()) != 32 || len(value) < 16+16+32 || (len(value)-16-32)%16 != 0 {
			return false
		}
	}
	return len(mutations) > 0
}

func appStateError(name appstate.WAPatchName, code int, text string) waBinary.Node {
	return waBinary.Node{Tag: "collection", Attrs: waBinary.Attrs{"name": string(name), "type": "error"},
		Content: []waBinary.Node{{Tag: "error", Attrs: waBinary.Attrs{"code": strconv.Itoa(code), "text": text}}}}
}

// notifyAppStateChanged tells the account's companions (but the one that
// made the change) that a collection has a new version:
// <notification type="server_sync"><collection name version/></notification>
// (whatsmeow notification.go handleAppStateNotification fetches the patches).
func (s *Server) notifyAppStateChanged(a *account, name appstate.WAPatchName, version uint64, except *device) {
	s.mu.Lock()
	var targets []*device
	for _, d := range a.sortedDevices() {
		if !d.simulatedPhone && d != except {
			targets = append(targets, d)
		}
	}
	s.mu.Unlock()
	node := waBinary.Node{Tag: "notification", Attrs: waBinary.Attrs{
		"from": types.ServerJID, "type": "server_sync", "id": s.newID(), "t": strconv.FormatInt(time.Now().Unix(), 10),
	}, Content: []waBinary.Node{{Tag: "collection", Attrs: waBinary.Attrs{"name": string(name), "version": strconv.FormatUint(version, 10)}}}}
	for _, d := range targets {
		s.deliver(d, node)
	}
}
