package core

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// sendMessage(jid, content) in Baileys' shapes. content is one JSON object
// (the binding serialises the page's object); its keys say what it is:
//
//	{text}, {text, quoted}, {text, mentions}   a text, a reply, mentions
//	{react: {key, text}}                       a reaction ("" removes it)
//	{edit: key, text}                          an edit of our own message
//	{delete: key}                              a revoke for everyone
//	{location: {degreesLatitude, degreesLongitude, name?, address?}}
//	{poll: {name, options (or Baileys' values), selectableCount?}}
//	{vote: {key, options}}                     our vote in a poll (pollvotes.go)
//	{raw}                                      a waE2E.Message in protobuf JSON
//	{image|video|audio|document|sticker, ...}  media: see buildMedia
//
// Each goes out through sendReaching, as sendText does: under the
// device's Signal lock, and for 1:1 chats checked to have reached every
// device of the recipient.

// The content keys of each kind besides the kind's own (text is a kind of
// its own when no other kind key is present).
var contentKinds = map[string][]string{
	"react":    nil,
	"delete":   nil,
	"edit":     {"text"},
	"location": nil,
	"poll":     nil,
	"vote":     nil,
	"raw":      nil,
	"text":     {"quoted", "mentions"},
}

// mediaContentKeys are the content keys of media messages (buildMedia).
var mediaContentKeys = []string{"image", "video", "audio", "document", "sticker"}

// buildMedia builds a media message from its content (the page's object,
// decoded): the hook where media sending goes (sendmedia.go sets it). While
// it is nil a media content is refused with invalid_option.
var buildMedia func(ctx context.Context, cli *whatsmeow.Client, chat types.JID, kind string, content map[string]json.RawMessage) (*waE2E.Message, error)

func contentErr(format string, args ...any) error {
	return Errorf(CodeInvalidOption, "sendMessage(jid, content): "+format, args...)
}

// SendMessage sends content (a JSON object, see above) to the chat to and
// resolves with the sent message's key.
func (c *Client) SendMessage(ctx context.Context, to string, content []byte) (MessageKey, error) {
	cli, err := c.readyToSend("sendMessage")
	if err != nil {
		return MessageKey{}, err
	}
	chat, err := parseJID(to)
	if err != nil {
		return MessageKey{}, err
	}
	fields, err := decodeObject(content, "content")
	if err != nil {
		return MessageKey{}, contentErr("%v", err)
	}
	msg, err := c.buildContent(ctx, cli, chat, fields)
	if err != nil {
		return MessageKey{}, err
	}
	resp, err := sendReaching(ctx, cli, chat, msg)
	if err != nil {
		if why := sendFailureReason(err); why != "" {
			return MessageKey{}, Errorf(CodeSend, "sendMessage to %s: %s: %w", chat, why, err)
		}
		return MessageKey{}, Errorf(CodeSend, "sendMessage to %s: %w", chat, err)
	}
	if p := msg.GetPollCreationMessage(); p != nil {
		c.notePoll(resp.ID, p)
	}
	c.tokens.issueAfterSend(cli, chat, c.log.Warnf)
	return MessageKey{RemoteJID: chat.String(), FromMe: true, ID: resp.ID}, nil
}

// readyToSend is the logged-in, connected client, or why not.
func (c *Client) readyToSend(op string) (*whatsmeow.Client, error) {
	cli, err := c.current()
	if err != nil {
		return nil, err
	}
	if cli == nil || cli.Store.ID == nil {
		return nil, Errorf(CodeNotLoggedIn, "%s: not logged in", op)
	}
	if !cli.IsConnected() {
		return nil, Errorf(CodeNotConnected, "%s: not connected; call connect() and wait for ready", op)
	}
	return cli, nil
}

// decodeObject reads a JSON object into its fields.
func decodeObject(b []byte, what string) (map[string]json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil || fields == nil {
		return nil, fmt.Errorf("%s must be an object", what)
	}
	for k, v := range fields {
		if bytes.Equal(v, []byte("null")) {
			delete(fields, k) // undefined and null: absent, as in Baileys
		}
	}
	return fields, nil
}

// decodeStrict reads raw into v, refusing unknown fields.
func decodeStrict(raw json.RawMessage, v any, what string) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return contentErr("%s: %v", what, err)
	}
	return nil
}

// buildContent dispatches on the content's kind.
func (c *Client) buildContent(ctx context.Context, cli *whatsmeow.Client, chat types.JID, fields map[string]json.RawMessage) (*waE2E.Message, error) {
	var kinds []string
	for k := range fields {
		if _, ok := contentKinds[k]; (ok && k != "text") || slices.Contains(mediaContentKeys, k) {
			kinds = append(kinds, k)
		}
	}
	sort.Strings(kinds)
	kind := "text"
	switch {
	case len(kinds) > 1:
		return nil, contentErr("content has %s: one kind of message at a time", strings.Join(kinds, " and "))
	case len(kinds) == 1:
		kind = kinds[0]
	case fields["text"] == nil:
		return nil, contentErr("content must have one of text, react, edit, delete, location, poll, vote, raw, %s", strings.Join(mediaContentKeys, ", "))
	}
	if slices.Contains(mediaContentKeys, kind) {
		if buildMedia == nil {
			return nil, contentErr("%s: media sending is not available in this build", kind)
		}
		return buildMedia(ctx, cli, chat, kind, fields)
	}
	for k := range fields {
		if k != kind && !slices.Contains(contentKinds[kind], k) {
			return nil, contentErr("unknown key %q for a %s message (known: %s)", k, kind, strings.Join(append([]string{kind}, contentKinds[kind]...), ", "))
		}
	}
	switch kind {
	case "react":
		var r struct {
			Key  keyArg  `json:"key"`
			Text *string `json:"text"`
		}
		if err := decodeStrict(fields["react"], &r, "react"); err != nil {
			return nil, err
		}
		if err := r.Key.check("react.key", chat); err != nil {
			return nil, err
		}
		if r.Text == nil {
			return nil, contentErr("react.text must be a string (an emoji, or '' to remove the reaction)")
		}
		return cli.BuildReaction(chat, r.Key.author(chat), r.Key.ID, *r.Text), nil
	case "delete":
		var k keyArg
		if err := decodeStrict(fields["delete"], &k, "delete"); err != nil {
			return nil, err
		}
		if err := k.check("delete", chat); err != nil {
			return nil, err
		}
		return cli.BuildRevoke(chat, k.author(chat), k.ID), nil
	case "edit":
		var k keyArg
		if err := decodeStrict(fields["edit"], &k, "edit"); err != nil {
			return nil, err
		}
		if err := k.check("edit", chat); err != nil {
			return nil, err
		}
		if !k.FromMe {
			return nil, contentErr("edit: only our own messages can be edited (key.fromMe must be true)")
		}
		text, err := textField(fields)
		if err != nil {
			return nil, err
		}
		return cli.BuildEdit(chat, k.ID, &waE2E.Message{Conversation: proto.String(text)}), nil
	case "location":
		var l Location
		if err := decodeStrict(fields["location"], &l, "location"); err != nil {
			return nil, err
		}
		if math.Abs(l.DegreesLatitude) > 90 || math.Abs(l.DegreesLongitude) > 180 {
			return nil, contentErr("location: degreesLatitude must be within ±90 and degreesLongitude within ±180")
		}
		return &waE2E.Message{LocationMessage: &waE2E.LocationMessage{
			DegreesLatitude: proto.Float64(l.DegreesLatitude), DegreesLongitude: proto.Float64(l.DegreesLongitude),
			Name: nonEmpty(l.Name), Address: nonEmpty(l.Address),
		}}, nil
	case "poll":
		return buildPoll(cli, fields["poll"])
	case "vote":
		return c.buildVote(ctx, cli, chat, fields["vote"])
	case "raw":
		var m waE2E.Message
		if err := protojson.Unmarshal(fields["raw"], &m); err != nil {
			return nil, contentErr("raw is not a waE2E.Message in protobuf JSON: %v", err)
		}
		if proto.Size(&m) == 0 {
			return nil, contentErr("raw is an empty message")
		}
		return &m, nil
	}
	return c.buildText(chat, fields)
}

// buildText is a text, with its quote and mentions.
func (c *Client) buildText(chat types.JID, fields map[string]json.RawMessage) (*waE2E.Message, error) {
	text, err := textField(fields)
	if err != nil {
		return nil, err
	}
	if fields["quoted"] == nil && fields["mentions"] == nil {
		return &waE2E.Message{Conversation: proto.String(text)}, nil
	}
	ci := &waE2E.ContextInfo{}
	if raw := fields["quoted"]; raw != nil {
		// A Baileys WAMessage ({key, message}) or a wasmeow message event
		// ({key, raw, ...}): the key, and the quoted content when given.
		var q struct {
			Key     *keyArg         `json:"key"`
			Message json.RawMessage `json:"message"`
			Raw     json.RawMessage `json:"raw"`
		}
		if err := json.Unmarshal(raw, &q); err != nil || q.Key == nil {
			return nil, contentErr("quoted must be a message: {key, message?} or a message event")
		}
		if err := q.Key.check("quoted.key", chat); err != nil {
			return nil, err
		}
		quoted := &waE2E.Message{Conversation: proto.String("")}
		body := q.Message
		if body == nil {
			body = q.Raw
		}
		if body != nil && !bytes.Equal(body, []byte("null")) {
			quoted = &waE2E.Message{}
			if err := protojson.Unmarshal(body, quoted); err != nil {
				return nil, contentErr("quoted.message is not a waE2E.Message in protobuf JSON: %v", err)
			}
		}
		ci.StanzaID = proto.String(q.Key.ID)
		ci.QuotedMessage = quoted
		if author := q.Key.author(chat); !author.IsEmpty() {
			ci.Participant = proto.String(author.ToNonAD().String())
		} else if own := c.Creds().Me; own != nil {
			me, _ := types.ParseJID(*own)
			ci.Participant = proto.String(me.ToNonAD().String())
		}
	}
	if raw := fields["mentions"]; raw != nil {
		var mentions []string
		if err := json.Unmarshal(raw, &mentions); err != nil {
			return nil, contentErr("mentions must be an array of JIDs")
		}
		for _, m := range mentions {
			j, err := parseJID(m)
			if err != nil || (j.Server != types.DefaultUserServer && j.Server != types.HiddenUserServer) {
				return nil, Errorf(CodeInvalidJID, "sendMessage: mentions: %q is not a user's JID", m)
			}
			ci.MentionedJID = append(ci.MentionedJID, j.ToNonAD().String())
		}
	}
	return &waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{Text: proto.String(text), ContextInfo: ci}}, nil
}

// maxPollOptions: WhatsApp's clients offer at most 12 options.
const maxPollOptions = 12

func buildPoll(cli *whatsmeow.Client, raw json.RawMessage) (*waE2E.Message, error) {
	var p struct {
		Name            string   `json:"name"`
		Options         []string `json:"options"`
		Values          []string `json:"values"` // Baileys' name
		SelectableCount *float64 `json:"selectableCount"`
	}
	if err := decodeStrict(raw, &p, "poll"); err != nil {
		return nil, err
	}
	if p.Options != nil && p.Values != nil {
		return nil, contentErr("poll: give options or values, not both")
	}
	if p.Options == nil {
		p.Options = p.Values
	}
	if strings.TrimSpace(p.Name) == "" {
		return nil, contentErr("poll.name must be a non-empty string")
	}
	if len(p.Options) < 2 || len(p.Options) > maxPollOptions {
		return nil, contentErr("poll.options must be 2 to %d strings, got %d", maxPollOptions, len(p.Options))
	}
	seen := map[string]bool{}
	for _, o := range p.Options {
		if strings.TrimSpace(o) == "" || seen[o] {
			return nil, contentErr("poll.options must be distinct non-empty strings")
		}
		seen[o] = true
	}
	selectable := 0
	if p.SelectableCount != nil {
		n := *p.SelectableCount
		if n != math.Trunc(n) || n < 0 || n > float64(len(p.Options)) {
			return nil, contentErr("poll.selectableCount must be a whole number from 0 (any) to %d", len(p.Options))
		}
		selectable = int(n)
	}
	return cli.BuildPollCreation(p.Name, p.Options, selectable), nil
}

// textField is content.text: a non-empty string that fits in a message.
func textField(fields map[string]json.RawMessage) (string, error) {
	var text string
	if err := json.Unmarshal(fields["text"], &text); err != nil || text == "" {
		return "", contentErr("text must be a non-empty string")
	}
	if err := checkOutgoingText(text); err != nil {
		return "", err
	}
	return text, nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return proto.String(s)
}

// keyArg is a message key the page gives (Baileys' WAMessageKey).
type keyArg struct {
	RemoteJID   string `json:"remoteJid"`
	FromMe      bool   `json:"fromMe"`
	ID          string `json:"id"`
	Participant string `json:"participant"`
}

// maxMessageIDLen: ids are 16 to 32 characters today; a longer one is no id.
const maxMessageIDLen = 128

func (k *keyArg) check(what string, chat types.JID) error {
	if !k.FromMe && k.Participant == "" && chat.Server == types.GroupServer {
		return contentErr("%s: a group message that is not ours needs its participant (the author's JID)", what)
	}
	if k.ID == "" || len(k.ID) > maxMessageIDLen {
		return contentErr("%s.id must be a message id (a non-empty string of at most %d characters)", what, maxMessageIDLen)
	}
	if k.Participant != "" {
		if _, err := parseJID(k.Participant); err != nil {
			return Errorf(CodeInvalidJID, "sendMessage: %s.participant: %v", what, err)
		}
	}
	return nil
}

// author is who wrote the keyed message, as whatsmeow's Build* take it:
// empty for our own, the participant in a group, else the 1:1 chat.
func (k *keyArg) author(chat types.JID) types.JID {
	switch {
	case k.FromMe:
		return types.EmptyJID
	case k.Participant != "":
		j, _ := parseJID(k.Participant)
		return j
	}
	return chat
}
