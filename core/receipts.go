package core

import (
	"context"
	"encoding/json"
	"time"

	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
)

// Receipt types (Receipt.Type).
const (
	ReceiptDelivered = "delivered"
	ReceiptRead      = "read"
	ReceiptPlayed    = "played"
)

// Receipt: messages reached a device of the reader, or were read or
// played there. Reader is the one who read (fromMe: one of our own
// devices, e.g. the phone marking a chat read).
type Receipt struct {
	Type      string   `json:"type"`
	IDs       []string `json:"ids"`
	Chat      string   `json:"chat"`
	ChatAlt   *string  `json:"chatAlt"`
	Reader    string   `json:"reader"`
	ReaderAlt *string  `json:"readerAlt"`
	FromMe    bool     `json:"fromMe"`
	IsGroup   bool     `json:"isGroup"`
	Time      int64    `json:"time"`
}

func (Receipt) EventName() string { return "receipt" }

// receiptTypes maps whatsmeow's receipt types the page sees; the others
// (retry, sender, server-error, inactive, peer and history-sync receipts)
// are whatsmeow's business.
var receiptTypes = map[types.ReceiptType]string{
	types.ReceiptTypeDelivered:  ReceiptDelivered,
	types.ReceiptTypeRead:       ReceiptRead,
	types.ReceiptTypeReadSelf:   ReceiptRead,
	types.ReceiptTypePlayed:     ReceiptPlayed,
	types.ReceiptTypePlayedSelf: ReceiptPlayed,
}

func (c *Client) emitReceipt(v *events.Receipt) {
	typ, ok := receiptTypes[v.Type]
	if !ok {
		return
	}
	chat, chatAlt := c.bothForms(v.Chat, types.EmptyJID)
	if !v.IsGroup {
		chat, chatAlt = c.bothForms(v.Chat.ToNonAD(), v.SenderAlt.ToNonAD())
		if v.IsFromMe {
			chat, chatAlt = c.bothForms(v.Chat.ToNonAD(), v.RecipientAlt.ToNonAD())
		}
	}
	reader, readerAlt := c.bothForms(v.Sender.ToNonAD(), v.SenderAlt.ToNonAD())
	c.emit(Receipt{Type: typ, IDs: append([]string{}, v.MessageIDs...), Chat: chat, ChatAlt: chatAlt, Reader: reader, ReaderAlt: readerAlt,
		FromMe: v.IsFromMe, IsGroup: v.IsGroup, Time: v.Timestamp.UnixMilli()})
}

// MarkRead sends read receipts for ids in chat; in a group sender names
// their author (one author per call, as the receipt carries one).
func (c *Client) MarkRead(ctx context.Context, chat string, ids []string, sender string) error {
	cli, err := c.readyToSend("markRead")
	if err != nil {
		return err
	}
	chatJID, err := parseJID(chat)
	if err != nil {
		return err
	}
	var senderJID types.JID
	if sender != "" {
		if senderJID, err = parseJID(sender); err != nil {
			return err
		}
	}
	if chatJID.Server == types.GroupServer && senderJID.IsEmpty() {
		return Errorf(CodeInvalidOption, "markRead(chat, ids, sender): in a group, sender (the messages' author) is needed")
	}
	for _, id := range ids {
		if id == "" || len(id) > maxMessageIDLen {
			return Errorf(CodeInvalidOption, "markRead(chat, ids, sender): ids must be message ids (non-empty strings of at most %d characters)", maxMessageIDLen)
		}
	}
	if err := cli.MarkRead(ctx, ids, time.Now(), chatJID, senderJID); err != nil {
		return Errorf(CodeSend, "markRead in %s: %w", chatJID, err)
	}
	return nil
}

func init() {
	register("markRead", func(c *Client, ctx context.Context, args []json.RawMessage) (any, error) {
		const sig = "markRead(chat, ids, sender?)"
		chat, err := jidArg(args, 0, sig, "chat")
		if err != nil {
			return nil, err
		}
		ids, err := stringsArg(args, 1, sig, "ids")
		if err != nil {
			return nil, err
		}
		var sender string
		if string(arg(args, 2)) != "null" {
			if sender, err = jidArg(args, 2, sig, "sender"); err != nil {
				return nil, err
			}
		}
		return nil, c.MarkRead(ctx, chat, ids, sender)
	})
}
