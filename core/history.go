package core

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/proto/waHistorySync"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
)

// History sync: after pairing the phone sends one notification per blob of
// its recent conversations (whatsmeow message.go). whatsmeow's own loop only
// logs a failed download, so the client downloads them itself
// (ManualHistorySyncDownload, mediahttp.go), one at a time in arrival
// order, and emits history_sync, contacts.update for the push names, or
// sync_failed. (whatsmeow acknowledges the notification with its hist_sync
// receipt either way, so a blob that never downloads is lost for good.)

// historyNotice is a history-sync notification and the id of the message
// that carried it.
type historyNotice struct {
	id string
	n  *waE2E.HistorySyncNotification
}

// queueHistorySync takes a history-sync notification of our own phone;
// c.history downloads them one at a time, in arrival order.
func (c *Client) queueHistorySync(cli *whatsmeow.Client, notice historyNotice) {
	c.history.Push(notice, func(n historyNotice) {
		defer c.recoverInto("history sync")
		c.downloadHistory(cli, n)
	})
}

func (c *Client) downloadHistory(cli *whatsmeow.Client, notice historyNotice) {
	notif := notice.n
	// A chunk asked for again (historyretry.go) has come: no more waiting.
	again := c.takePending(chunkKey{notif.GetSyncType(), notif.GetChunkOrder()}) != nil || c.askedAgain(notif)
	kind := strings.ToLower(notif.GetSyncType().String())
	lost := fmt.Sprintf("history sync %s (chunk %d: %s)", kind, notif.GetChunkOrder(), historyContents(notif.GetSyncType()))
	var hs *waHistorySync.HistorySync
	why, err := c.retryUntil(cli, lost, func(ctx context.Context) (err error) {
		// Synchronous storage: push names, LID mappings and message secrets
		// are stored before the page hears of them.
		c.syncWork.Lock()
		defer c.syncWork.Unlock()
		hs, err = cli.DownloadHistorySync(ctx, notif, true)
		return err
	})
	switch {
	case err == nil:
	case why == "": // the client went away
		return
	case again:
		c.emitSyncFailed(lost, err, why+"; it was lost again after the phone sent it again")
		return
	case !c.askChunkAgain(cli, notice, lost, err):
		c.emitSyncFailed(lost, err, why)
		return
	default:
		return // asked the phone again (historyretry.go)
	}
	if names := hs.GetPushnames(); len(names) > 0 {
		var up ContactsUpdate
		for _, n := range names {
			if n.GetPushname() == "" || n.GetPushname() == "-" {
				continue
			}
			up.Contacts = append(up.Contacts, ContactUpdate{JID: n.GetID(), PushName: strPtr(n.GetPushname())})
		}
		if len(up.Contacts) > 0 {
			c.emit(up)
		}
	}
	c.emit(c.historyEvent(cli, hs))
}

// historyContents says what a kind of history blob carries, for sync_failed.
func historyContents(t waE2E.HistorySyncType) string {
	switch t {
	case waE2E.HistorySyncType_INITIAL_BOOTSTRAP:
		return "the chat list and its latest messages"
	case waE2E.HistorySyncType_RECENT, waE2E.HistorySyncType_FULL, waE2E.HistorySyncType_ON_DEMAND:
		return "earlier messages of the chats"
	case waE2E.HistorySyncType_PUSH_NAME:
		return "the contacts' push names"
	case waE2E.HistorySyncType_NON_BLOCKING_DATA:
		return "privacy tokens and phone-number/LID mappings"
	}
	return "the phone's history"
}

// historyEvent maps a blob to the page's event; its messages are mapped as
// message events are (oldest first, as a chat shows them).
func (c *Client) historyEvent(cli *whatsmeow.Client, hs *waHistorySync.HistorySync) HistorySync {
	out := HistorySync{SyncType: strings.ToLower(hs.GetSyncType().String()), ChunkOrder: hs.GetChunkOrder(), Progress: hs.GetProgress(),
		Conversations: []HistoryConversation{}}
	for _, conv := range hs.GetConversations() {
		chat, err := types.ParseJID(conv.GetID())
		if err != nil {
			c.log.Warnf("history sync: skipping a conversation with a bad id %q: %v", conv.GetID(), err)
			continue
		}
		hc := HistoryConversation{ID: chat.String(), Name: conv.GetName(), UnreadCount: conv.GetUnreadCount(), Messages: []Message{}}
		for _, m := range conv.GetMessages() {
			evt, err := cli.ParseWebMessage(chat, m.GetMessage())
			if err != nil {
				c.log.Warnf("history sync: skipping a message of %s: %v", chat, err)
				continue
			}
			if evt.Message == nil || evt.Message.GetProtocolMessage() != nil {
				continue
			}
			hc.Messages = append(hc.Messages, c.pageMessage(evt, false))
		}
		sort.SliceStable(hc.Messages, func(i, j int) bool { return hc.Messages[i].Time < hc.Messages[j].Time })
		out.Conversations = append(out.Conversations, hc)
	}
	return out
}

// onProtocolMessage starts the sync work of our own phone's protocol
// messages: history-sync notifications and app-state key shares.
func (c *Client) onProtocolMessage(v *events.Message) {
	if !v.Info.IsFromMe {
		return
	}
	cli, _ := c.current()
	if cli == nil {
		return
	}
	pm := v.Message.GetProtocolMessage()
	if n := pm.GetHistorySyncNotification(); n != nil {
		c.queueHistorySync(cli, historyNotice{id: v.Info.ID, n: n})
	}
	if r := pm.GetPeerDataOperationRequestResponseMessage(); r.GetPeerDataOperationRequestType() == waE2E.PeerDataOperationRequestType_HISTORY_SYNC_CHUNK_RETRY {
		c.onChunkRetryAnswer(r)
	}
	if share := pm.GetAppStateSyncKeyShare(); share != nil {
		c.superviseAppState(cli, share)
	}
}
