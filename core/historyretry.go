package core

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"google.golang.org/protobuf/proto"
)

// A history blob lost for good is asked for again once: whatsmeow has sent
// the hist_sync receipt already, but WhatsApp's protocol has a peer data
// operation for exactly this, HISTORY_SYNC_CHUNK_RETRY (WAWebProtobufsE2E
// .proto at the pin: historySyncChunkRetryRequest {syncType, chunkOrder,
// chunkNotificationID, regenerateChunk}; the primary answers with
// historySyncChunkRetryResponse {responseCode, canRecover}; whatsapp-rust
// sends it, Baileys 7 reads the answer). The pinned whatsmeow has no
// builder for it, so the client sends the request as a peer message to its
// phone. A new notification of the chunk then downloads as any other; the
// page gets sync_failed only if the phone says it cannot (canRecover
// false), stays silent for chunkRetryWait, or its new copy is lost too.

// chunkRetryWait is how long the phone has to send a chunk again.
var chunkRetryWait = 30 * time.Second

type chunkKey struct {
	syncType waE2E.HistorySyncType
	order    uint32
}

// pendingChunk is a chunk asked for again: the page is told with
// emitSyncFailed(lost, err, ...) unless it comes.
type pendingChunk struct {
	lost  string
	err   error
	timer *time.Timer
}

// chunkRetries: the chunks asked for again (once each) and those awaited
// (the zero value is ready).
type chunkRetries struct {
	mu      sync.Mutex
	asked   map[chunkKey]bool
	pending map[chunkKey]*pendingChunk
}

// askChunkAgain asks the phone for a lost chunk again, once per chunk; false
// when it was asked already or the request could not be sent (then the
// caller tells the page).
func (c *Client) askChunkAgain(cli *whatsmeow.Client, notice historyNotice, lost string, lostErr error) bool {
	k := chunkKey{notice.n.GetSyncType(), notice.n.GetChunkOrder()}
	r := &c.chunks
	r.mu.Lock()
	if r.asked[k] {
		r.mu.Unlock()
		return false
	}
	if r.asked == nil {
		r.asked, r.pending = make(map[chunkKey]bool), make(map[chunkKey]*pendingChunk)
	}
	r.asked[k] = true
	r.mu.Unlock()
	own := cli.Store.GetJID()
	if own.IsEmpty() {
		return false
	}
	req := &waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{
		Type: waE2E.ProtocolMessage_PEER_DATA_OPERATION_REQUEST_MESSAGE.Enum(),
		PeerDataOperationRequestMessage: &waE2E.PeerDataOperationRequestMessage{
			PeerDataOperationRequestType: waE2E.PeerDataOperationRequestType_HISTORY_SYNC_CHUNK_RETRY.Enum(),
			HistorySyncChunkRetryRequest: &waE2E.PeerDataOperationRequestMessage_HistorySyncChunkRetryRequest{
				SyncType: k.syncType.Enum(), ChunkOrder: proto.Uint32(k.order),
				ChunkNotificationID: proto.String(notice.id), RegenerateChunk: proto.Bool(true),
			},
		},
	}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := cli.SendMessage(ctx, own.ToNonAD(), req, whatsmeow.SendRequestExtra{Peer: true}); err != nil {
		c.log.Warnf("%s: asking the phone again failed: %v", lost, err)
		return false
	}
	c.log.Infof("%s lost: asked the phone to send it again", lost)
	p := &pendingChunk{lost: lost, err: lostErr}
	r.mu.Lock()
	r.pending[k] = p
	p.timer = time.AfterFunc(chunkRetryWait, func() {
		if c.takePending(k) != nil {
			c.emitSyncFailed(lost, lostErr, fmt.Sprintf("asked the phone to send it again; no answer within %s", chunkRetryWait))
		}
	})
	r.mu.Unlock()
	return true
}

// takePending ends the wait for a chunk; nil if it was not awaited.
func (c *Client) takePending(k chunkKey) *pendingChunk {
	r := &c.chunks
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pending[k]
	if p != nil {
		delete(r.pending, k)
		p.timer.Stop()
	}
	return p
}

// askedAgain says whether the chunk was asked for again already.
func (c *Client) askedAgain(n *waE2E.HistorySyncNotification) bool {
	c.chunks.mu.Lock()
	defer c.chunks.mu.Unlock()
	return c.chunks.asked[chunkKey{n.GetSyncType(), n.GetChunkOrder()}]
}

// onChunkRetryAnswer takes the phone's answer to a chunk request: one that
// cannot be met tells the page now.
func (c *Client) onChunkRetryAnswer(resp *waE2E.PeerDataOperationRequestResponseMessage) {
	for _, res := range resp.GetPeerDataOperationResult() {
		a := res.GetHistorySyncChunkRetryResponse()
		if a == nil || a.GetCanRecover() {
			continue
		}
		if p := c.takePending(chunkKey{a.GetSyncType(), a.GetChunkOrder()}); p != nil {
			c.emitSyncFailed(p.lost, p.err, fmt.Sprintf("asked the phone to send it again, which it cannot (%s)", a.GetResponseCode()))
		}
	}
}
