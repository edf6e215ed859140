//go:build !js

package fakewa

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/proto/waHistorySync"
	"google.golang.org/protobuf/proto"
)

// A history chunk asked for again. WhatsApp's protocol (the pinned
// whatsmeow's WAWebProtobufsE2E.proto, generated from WhatsApp Web) has a
// peer data operation HISTORY_SYNC_CHUNK_RETRY: a companion sends its
// primary a PeerDataOperationRequestMessage with historySyncChunkRetryRequest
// {syncType, chunkOrder, chunkNotificationID (the id of the message that
// carried the notification), regenerateChunk}, and the primary answers with
// a PeerDataOperationRequestResponseMessage whose historySyncChunkRetryResponse
// has {syncType, chunkOrder, requestID, responseCode (GENERATION_ERROR,
// CHUNK_CONSUMED, TIMEOUT, SESSION_EXHAUSTED, CHUNK_EXHAUSTED,
// DUPLICATED_REQUEST), canRecover}. whatsapp-rust sends it (PdoType::
// HistorySyncChunkRetry), Baileys 7 reads the answer's canRecover. The
// simulated phone builds the chunk anew from its current history, uploads
// it, answers canRecover (with CHUNK_EXHAUSTED when it has no such chunk)
// and sends a new HISTORY_SYNC_NOTIFICATION; the same device asking for
// the same chunk within chunkRetryInterval gets DUPLICATED_REQUEST (so a
// hostile companion cannot fill the media host). Not verified: what a
// real phone sends on success (a response code? the notification first?),
// and how often it accepts a request for one chunk.
//
//	POST /api/faults/lose-history-blob {"syncType": "recent"} -> {}: the next
//	history blob of that type a phone uploads is lost on the media host (404)

// answerPeerRequest answers a peer data operation request from one of the
// phone's companions (the other types are not simulated).
func (p *phone) answerPeerRequest(s *Server, from *device, id string, req *waE2E.PeerDataOperationRequestMessage) {
	if req.GetPeerDataOperationRequestType() != waE2E.PeerDataOperationRequestType_HISTORY_SYNC_CHUNK_RETRY {
		s.log.Debugf("phone %s: peer data operation %s from %s not simulated", p.acct.Phone, req.GetPeerDataOperationRequestType(), from.JID)
		return
	}
	want := req.GetHistorySyncChunkRetryRequest()
	res := &waE2E.PeerDataOperationRequestResponseMessage_PeerDataOperationResult_HistorySyncChunkRetryResponse{
		SyncType: want.SyncType, ChunkOrder: want.ChunkOrder, RequestID: proto.String(id), CanRecover: proto.Bool(false),
	}
	if p.chunkAskedRecently(from, want) {
		res.ResponseCode = waE2E.PeerDataOperationRequestResponseMessage_PeerDataOperationResult_DUPLICATED_REQUEST.Enum()
	}
	var notif *waE2E.HistorySyncNotification
	for _, hs := range s.historyBlobs(p) {
		if res.ResponseCode != nil {
			break
		}
		if int32(hs.GetSyncType()) != int32(want.GetSyncType()) || hs.GetChunkOrder() != want.GetChunkOrder() {
			continue
		}
		var err error
		if notif, err = s.historyNotification(hs); err != nil {
			s.log.Errorf("phone %s: regenerating history chunk %s/%d: %v", p.acct.Phone, want.GetSyncType(), want.GetChunkOrder(), err)
			res.ResponseCode = waE2E.PeerDataOperationRequestResponseMessage_PeerDataOperationResult_GENERATION_ERROR.Enum()
		}
		break
	}
	if notif != nil {
		res.CanRecover = proto.Bool(true)
	} else if res.ResponseCode == nil {
		res.ResponseCode = waE2E.PeerDataOperationRequestResponseMessage_PeerDataOperationResult_CHUNK_EXHAUSTED.Enum()
	}
	p.sendPeer(s, from, &waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{
		Type: waE2E.ProtocolMessage_PEER_DATA_OPERATION_REQUEST_RESPONSE_MESSAGE.Enum(),
		PeerDataOperationRequestResponseMessage: &waE2E.PeerDataOperationRequestResponseMessage{
			PeerDataOperationRequestType: waE2E.PeerDataOperationRequestType_HISTORY_SYNC_CHUNK_RETRY.Enum(),
			StanzaID:                     proto.String(id),
			PeerDataOperationResult:      []*waE2E.PeerDataOperationRequestResponseMessage_PeerDataOperationResult{{HistorySyncChunkRetryResponse: res}},
		},
	}})
	if notif == nil {
		s.log.Warnf("phone %s: %s asked again for history chunk %s/%d, which it cannot give", p.acct.Phone, from.JID, want.GetSyncType(), want.GetChunkOrder())
		return
	}
	p.sendPeer(s, from, &waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{
		Type: waE2E.ProtocolMessage_HISTORY_SYNC_NOTIFICATION.Enum(), HistorySyncNotification: notif,
	}})
	s.log.Infof("phone %s: sent history chunk %s/%d again to %s", p.acct.Phone, want.GetSyncType(), want.GetChunkOrder(), from.JID)
}

// chunkRetryInterval: a device asks for one chunk at most this often.
const chunkRetryInterval = time.Minute

// chunkAskedRecently notes a request and says whether the device asked for
// the chunk within chunkRetryInterval.
func (p *phone) chunkAskedRecently(from *device, want *waE2E.PeerDataOperationRequestMessage_HistorySyncChunkRetryRequest) bool {
	k := fmt.Sprintf("%s/%d/%d", from.JID, want.GetSyncType(), want.GetChunkOrder())
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.chunkAsks == nil {
		p.chunkAsks = make(map[string]time.Time)
	}
	now := time.Now()
	for key, at := range p.chunkAsks {
		if now.Sub(at) > chunkRetryInterval {
			delete(p.chunkAsks, key)
		}
	}
	if _, ok := p.chunkAsks[k]; ok {
		return true
	}
	p.chunkAsks[k] = now
	return false
}

// LoseNextHistoryBlob arms a fault: the next history blob of the sync type
// ("initial_bootstrap", "recent", "push_name", "non_blocking_data") that a
// phone uploads answers 404 on the media host. Calls queue up.
func (s *Server) LoseNextHistoryBlob(syncType string) error {
	v, ok := waHistorySync.HistorySync_HistorySyncType_value[strings.ToUpper(syncType)]
	if !ok {
		return fmt.Errorf("no history sync type %q", syncType)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loseHistory = append(s.loseHistory, waHistorySync.HistorySync_HistorySyncType(v))
	return nil
}

// historyBlobLost takes an armed fault for a blob of the type, if any.
func (s *Server) historyBlobLost(t waHistorySync.HistorySync_HistorySyncType) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, lose := range s.loseHistory {
		if lose == t {
			s.loseHistory = append(s.loseHistory[:i], s.loseHistory[i+1:]...)
			return true
		}
	}
	return false
}

func (s *Server) historyFaultRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/faults/lose-history-blob", func(w http.ResponseWriter, r *http.Request) {
		defer s.recoverAPI(w, r)
		var req struct {
			SyncType string `json:"syncType"`
		}
		if err := readJSON(r, &req); err != nil {
			writeErr(w, http.StatusBadRequest, err)
			return
		}
		if err := s.LoseNextHistoryBlob(req.SyncType); err != nil {
			writeErr(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusOK, struct{}{})
	})
}
