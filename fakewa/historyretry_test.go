//go:build !js

package fakewa_test

import (
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/wasmeow/wasmeow/fakewa"
)

// A companion asks its phone for a history chunk again
// (HISTORY_SYNC_CHUNK_RETRY, sent by unmodified whatsmeow as a peer
// message): the phone answers canRecover and sends a new notification of
// the chunk; for a chunk it never had it answers CHUNK_EXHAUSTED.
func TestPhoneAnswersHistoryChunkRetry(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	alice := newMember(t, srv, "15552220091", "Alice")
	ask := func(order uint32) {
		t.Helper()
		req := &waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{
			Type: waE2E.ProtocolMessage_PEER_DATA_OPERATION_REQUEST_MESSAGE.Enum(),
			PeerDataOperationRequestMessage: &waE2E.PeerDataOperationRequestMessage{
				PeerDataOperationRequestType: waE2E.PeerDataOperationRequestType_HISTORY_SYNC_CHUNK_RETRY.Enum(),
				HistorySyncChunkRetryRequest: &waE2E.PeerDataOperationRequestMessage_HistorySyncChunkRetryRequest{
					SyncType: waE2E.HistorySyncType_RECENT.Enum(), ChunkOrder: proto.Uint32(order), RegenerateChunk: proto.Bool(true),
				},
			},
		}}
		if _, err := alice.tc.cli.SendMessage(ctx10(t), alice.jid(), req, whatsmeow.SendRequestExtra{Peer: true}); err != nil {
			t.Fatal(err)
		}
	}
	answer := func() *waE2E.PeerDataOperationRequestResponseMessage_PeerDataOperationResult_HistorySyncChunkRetryResponse {
		t.Helper()
		m := waitEvent(alice.tc, 10*time.Second, func(m *events.Message) bool {
			return m.Message.GetProtocolMessage().GetPeerDataOperationRequestResponseMessage() != nil
		})
		return m.Message.GetProtocolMessage().GetPeerDataOperationRequestResponseMessage().GetPeerDataOperationResult()[0].GetHistorySyncChunkRetryResponse()
	}
	ask(1) // fakewa's recent history is chunk 1
	if a := answer(); !a.GetCanRecover() || a.GetSyncType() != waE2E.HistorySyncType_RECENT || a.GetChunkOrder() != 1 {
		t.Fatalf("answer %+v", a)
	}
	waitEvent(alice.tc, 10*time.Second, func(m *events.Message) bool {
		n := m.Message.GetProtocolMessage().GetHistorySyncNotification()
		return n != nil && n.GetSyncType() == waE2E.HistorySyncType_RECENT && n.GetChunkOrder() == 1
	})
	ask(7)
	if a := answer(); a.GetCanRecover() || a.GetResponseCode().String() != "CHUNK_EXHAUSTED" {
		t.Fatalf("answer for a chunk the phone never had %+v", a)
	}
	ask(1) // again at once
	if a := answer(); a.GetCanRecover() || a.GetResponseCode().String() != "DUPLICATED_REQUEST" {
		t.Fatalf("answer for a chunk asked for again at once %+v", a)
	}
}
