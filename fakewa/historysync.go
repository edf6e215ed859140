//go:build !js

package fakewa

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"google.golang.org/protobuf/proto"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waCommon"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/proto/waHistorySync"
	"go.mau.fi/whatsmeow/proto/waWeb"
	"go.mau.fi/whatsmeow/types"
)

// History sync: after a companion pairs, the primary phone sends it blobs of
// its recent conversations as peer protocol messages of type
// HISTORY_SYNC_NOTIFICATION, each naming a zlib-compressed
// waHistorySync.HistorySync encrypted on the media host with the "WhatsApp
// History Keys" (whatsmeow message.go DownloadHistorySync). The kinds, as
// whatsmeow's author describes them (tulir/whatsmeow issue 74):
// INITIAL_BOOTSTRAP the chat list with some messages, RECENT more recent
// messages, PUSH_NAME display names; NON_BLOCKING_DATA carries the PN-LID
// mappings (phoneNumberToLidMappings) and privacy tokens (conversations'
// tcToken), which whatsmeow stores from any blob. fakewa sends them in that
// order: INITIAL_BOOTSTRAP, PUSH_NAME, NON_BLOCKING_DATA, RECENT.

const (
	historyChats        = 100 // conversations a phone keeps
	historyPerChat      = 200 // messages kept per conversation
	historyBootstrapPer = 10  // newest messages per chat in INITIAL_BOOTSTRAP; older ones go in RECENT
)

// chatHistory is what a phone keeps of its conversations (guarded by phone.mu).
type chatHistory struct {
	chats map[string]*historyChat // by the peer's phone number
	seq   uint64                  // message order across chats
}

type historyChat struct {
	peer     types.JID // PN
	messages []historyMessage
}

type historyMessage struct {
	id     string
	fromMe bool
	msg    *waE2E.Message
	t      time.Time
	order  uint64
}

// keepHistory records a message of a 1:1 conversation with peer (a PN JID).
func (p *phone) keepHistory(peer types.JID, id string, fromMe bool, msg *waE2E.Message) {
	if msg == nil || msg.GetProtocolMessage() != nil || peer.Server != types.DefaultUserServer {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	h := &p.history
	if h.chats == nil {
		h.chats = make(map[string]*historyChat)
	}
	c := h.chats[peer.User]
	if c == nil {
		if len(h.chats) >= historyChats {
			h.dropOldestChat()
		}
		c = &historyChat{peer: peer.ToNonAD()}
		h.chats[peer.User] = c
	}
	h.seq++
	c.messages = append(c.messages, historyMessage{id: id, fromMe: fromMe, msg: msg, t: time.Now(), order: h.seq})
	if len(c.messages) > historyPerChat {
		c.messages = c.messages[1:]
	}
}

func (h *chatHistory) dropOldestChat() {
	var oldest string
	var at uint64
	for k, c := range h.chats {
		if last := c.messages[len(c.messages)-1].order; oldest == "" || last < at {
			oldest, at = k, last
		}
	}
	delete(h.chats, oldest)
}

// historyBlobs builds the phone's history sync payloads in sending order.
func (s *Server) historyBlobs(p *phone) []*waHistorySync.HistorySync {
	p.mu.Lock()
	chats := make([]historyChat, 0, len(p.history.chats))
	for _, c := range p.history.chats {
		chats = append(chats, historyChat{peer: c.peer, messages: append([]historyMessage(nil), c.messages...)})
	}
	held := make(map[string][]byte, len(p.tokens))
	for issuer, tok := range p.tokens {
		held[issuer] = tok
	}
	p.mu.Unlock()
	// Newest conversation first, as a chat list.
	sort.Slice(chats, func(i, j int) bool {
		return chats[i].messages[len(chats[i].messages)-1].order > chats[j].messages[len(chats[j].messages)-1].order
	})

	s.mu.Lock()
	lidMode := !s.settings.PNAddressing
	self := p.acct
	var names []*waHistorySync.Pushname
	var mappings []*waHistorySync.PhoneNumberToLIDMapping
	peers := map[string]*account{}
	for _, c := range chats {
		if a := s.accounts[c.peer.User]; a != nil {
			peers[a.Phone] = a
		}
	}
	for issuer := range held {
		if a := s.accounts[issuer]; a != nil {
			peers[a.Phone] = a
		}
	}
	peers[self.Phone] = self
	for _, ph := range slices.Sorted(maps.Keys(peers)) {
		a := peers[ph]
		if a != self && a.PushName != "" {
			names = append(names, &waHistorySync.Pushname{ID: proto.String(a.JID.String()), Pushname: proto.String(a.PushName)})
		}
		mappings = append(mappings, &waHistorySync.PhoneNumberToLIDMapping{PnJID: proto.String(a.JID.String()), LidJID: proto.String(a.LID.String())})
	}
	tokenTimes := map[string]time.Time{}
	for issuer := range held {
		if list := s.tokens[tokenKey{issuer: issuer, holder: self.Phone}]; len(list) > 0 {
			tokenTimes[issuer] = list[len(list)-1].t
		}
	}
	s.mu.Unlock()

	conversation := func(c historyChat, msgs []historyMessage) *waHistorySync.Conversation {
		conv := &waHistorySync.Conversation{
			ID:                    proto.String(c.peer.String()),
			ConversationTimestamp: proto.Uint64(uint64(c.messages[len(c.messages)-1].t.Unix())),
			UnreadCount:           proto.Uint32(0),
		}
		if a := peers[c.peer.User]; a != nil {
			conv.PnJID, conv.LidJID = proto.String(a.JID.String()), proto.String(a.LID.String())
		}
		for _, m := range msgs {
			status := waWeb.WebMessageInfo_READ
			if m.fromMe {
				status = waWeb.WebMessageInfo_DELIVERY_ACK
			}
			info := &waWeb.WebMessageInfo{
				Key:              &waCommon.MessageKey{RemoteJID: proto.String(c.peer.String()), FromMe: proto.Bool(m.fromMe), ID: proto.String(m.id)},
				Message:          m.msg,
				MessageTimestamp: proto.Uint64(uint64(m.t.Unix())),
				Status:           status.Enum(),
			}
			if a := peers[c.peer.User]; !m.fromMe && a != nil && a.PushName != "" {
				info.PushName = proto.String(a.PushName)
			}
			conv.Messages = append(conv.Messages, &waHistorySync.HistorySyncMsg{Message: info, MsgOrderID: proto.Uint64(m.order)})
		}
		return conv
	}
	bootstrap := &waHistorySync.HistorySync{SyncType: waHistorySync.HistorySync_INITIAL_BOOTSTRAP.Enum(), ChunkOrder: proto.Uint32(0), Progress: proto.Uint32(50)}
	recent := &waHistorySync.HistorySync{SyncType: waHistorySync.HistorySync_RECENT.Enum(), ChunkOrder: proto.Uint32(1), Progress: proto.Uint32(100)}
	for _, c := range chats {
		split := max(0, len(c.messages)-historyBootstrapPer)
		bootstrap.Conversations = append(bootstrap.Conversations, conversation(c, c.messages[split:]))
		older := conversation(c, c.messages[:split])
		older.EndOfHistoryTransfer = proto.Bool(true)
		recent.Conversations = append(recent.Conversations, older)
	}
	if lidMode {
		bootstrap.GlobalSettings = &waHistorySync.GlobalSettings{ChatDbLidMigrationTimestamp: proto.Int64(time.Now().Unix())}
	}
	nonBlocking := &waHistorySync.HistorySync{SyncType: waHistorySync.HistorySync_NON_BLOCKING_DATA.Enum(), ChunkOrder: proto.Uint32(0), PhoneNumberToLidMappings: mappings}
	for _, issuer := range slices.Sorted(maps.Keys(held)) {
		a := peers[issuer]
		if a == nil {
			continue
		}
		ts := uint64(tokenTimes[issuer].Unix())
		nonBlocking.Conversations = append(nonBlocking.Conversations, &waHistorySync.Conversation{
			ID: proto.String(a.JID.String()), TcToken: held[issuer], TcTokenTimestamp: proto.Uint64(ts), TcTokenSenderTimestamp: proto.Uint64(ts),
		})
	}
	pushNames := &waHistorySync.HistorySync{SyncType: waHistorySync.HistorySync_PUSH_NAME.Enum(), ChunkOrder: proto.Uint32(0), Pushnames: names}
	return []*waHistorySync.HistorySync{bootstrap, pushNames, nonBlocking, recent}
}

// sendHistorySync uploads the phone's history blobs and sends a new
// companion one notification per blob.
func (p *phone) sendHistorySync(s *Server, d *device) {
	for _, hs := range s.historyBlobs(p) {
		notif, err := s.historyNotification(hs)
		if err != nil {
			s.log.Errorf("phone %s: history sync %s: %v", p.acct.Phone, hs.GetSyncType(), err)
			return
		}
		p.sendPeer(s, d, &waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{
			Type:                    waE2E.ProtocolMessage_HISTORY_SYNC_NOTIFICATION.Enum(),
			HistorySyncNotification: notif,
		}})
	}
}

// historyNotification compresses, encrypts and stores one blob, and
// describes it for the companion.
func (s *Server) historyNotification(hs *waHistorySync.HistorySync) (*waE2E.HistorySyncNotification, error) {
	raw, err := proto.Marshal(hs)
	if err != nil {
		return nil, err
	}
	var packed bytes.Buffer
	zw := zlib.NewWriter(&packed)
	if _, err = zw.Write(raw); err == nil {
		err = zw.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("compressing: %w", err)
	}
	enc, err := encryptMedia(packed.Bytes(), whatsmeow.MediaHistory)
	if err != nil {
		return nil, err
	}
	direct := s.storeBlob("md-msg-hist", enc.blob)
	if s.historyBlobLost(hs.GetSyncType()) { // historyretry.go
		if err = s.FailBlob(direct, "", "404"); err != nil {
			return nil, err
		}
	}
	return &waE2E.HistorySyncNotification{
		FileSHA256: enc.fileSHA256, FileLength: proto.Uint64(enc.fileLength), MediaKey: enc.mediaKey,
		FileEncSHA256: enc.fileEncSHA256, DirectPath: proto.String(direct),
		SyncType:   waE2E.HistorySyncType(hs.GetSyncType()).Enum(),
		ChunkOrder: proto.Uint32(hs.GetChunkOrder()), Progress: proto.Uint32(hs.GetProgress()),
	}, nil
}

// lastMessageTime is when the phone's last message with peer was, or zero.
func (p *phone) lastMessageTime(peer types.JID) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.history.chats[peer.User]; c != nil {
		return c.messages[len(c.messages)-1].t
	}
	return time.Time{}
}
