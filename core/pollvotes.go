package core

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waCommon"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/wasmeow/wasmeow/pollvote"
)

// Poll votes. A vote is encrypted with the poll's message secret, which
// whatsmeow keeps in the session's store for every poll sent or received
// (message.go storeMessageSecret, send.go), and carries only SHA-256 hashes
// of the chosen option names (pollvote). A poll_vote event is decrypted with
// whatsmeow's DecryptPollVote; the names come from the polls this client
// saw since it was made (sent, received, or in history), the hashes always,
// so a page that keeps its messages can match older polls itself.
//
// Sending: {vote: {key, options}} with the poll's key. The pinned whatsmeow's
// BuildPollVote encrypts with our phone number even in a LID-addressed chat,
// where every other client decrypts with our LID (whatsmeow upstream fixed
// EncryptPollVote to getOwnLID), so the vote is built here: in the form the
// poll's author is stored in (a LID author means a LID-addressed chat).

// maxKnownPolls bounds the polls whose options a client remembers.
const maxKnownPolls = 2000

// pollOptions remembers polls' option names by message id (the zero value
// is ready).
type pollOptions struct {
	mu    sync.Mutex
	byID  map[string][]string
	order []string
}

func (p *pollOptions) put(id string, options []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byID == nil {
		p.byID = make(map[string][]string)
	}
	if _, ok := p.byID[id]; !ok {
		p.order = append(p.order, id)
	}
	p.byID[id] = options
	if len(p.order) > maxKnownPolls {
		delete(p.byID, p.order[0])
		p.order = p.order[1:]
	}
}

func (p *pollOptions) get(id string) ([]string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	o, ok := p.byID[id]
	return o, ok
}

// PollVote is a vote in a poll: the poll's key, the chosen options' SHA-256
// hashes (base64) and, when this client saw the poll, their names (else
// null). An empty
// choice withdraws the voter's vote. Error says why the vote could not be
// read (then the choice is unknown).
type PollVote struct {
	Key             MessageKey `json:"key"`
	SelectedHashes  []string   `json:"selectedHashes"`
	SelectedOptions []string   `json:"selectedOptions"`
	Error           string     `json:"error,omitempty"`
}

// readVote decrypts the vote v carries (key already in the page's view).
func (c *Client) readVote(v *events.Message, key MessageKey) *PollVote {
	out := &PollVote{Key: key, SelectedHashes: []string{}}
	cli, _ := c.current()
	if cli == nil {
		out.Error = "the client is closed"
		return out
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	vote, err := cli.DecryptPollVote(ctx, v)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	for _, h := range vote.GetSelectedOptions() {
		out.SelectedHashes = append(out.SelectedHashes, base64.StdEncoding.EncodeToString(h))
	}
	if options, ok := c.polls.get(key.ID); ok {
		out.SelectedOptions = pollvote.Names(options, vote.GetSelectedOptions())
	}
	return out
}

// notePoll remembers a poll's options.
func (c *Client) notePoll(id string, p *waE2E.PollCreationMessage) {
	options := make([]string, 0, len(p.GetOptions()))
	for _, o := range p.GetOptions() {
		options = append(options, o.GetOptionName())
	}
	c.polls.put(id, options)
}

// buildVote is {vote: {key, options}}: our vote in the keyed poll.
func (c *Client) buildVote(ctx context.Context, cli *whatsmeow.Client, chat types.JID, raw json.RawMessage) (*waE2E.Message, error) {
	var v struct {
		Key     keyArg   `json:"key"`
		Options []string `json:"options"`
	}
	if err := decodeStrict(raw, &v, "vote"); err != nil {
		return nil, err
	}
	if err := v.Key.check("vote.key", chat); err != nil {
		return nil, err
	}
	if v.Options == nil {
		return nil, contentErr("vote.options must be an array of the chosen option names ([] withdraws the vote)")
	}
	known, haveOptions := c.polls.get(v.Key.ID)
	for i, o := range v.Options {
		if strings.TrimSpace(o) == "" || slices.Contains(v.Options[:i], o) || (haveOptions && !slices.Contains(known, o)) {
			return nil, contentErr("vote.options: %q is not one of the poll's options %q", o, known)
		}
	}
	own, ownLID := cli.Store.GetJID().ToNonAD(), cli.Store.GetLID().ToNonAD()
	authors := []types.JID{v.Key.author(chat)}
	if v.Key.FromMe {
		authors = []types.JID{ownLID, own}
	}
	var secret []byte
	var author types.JID
	for _, a := range authors {
		if a.IsEmpty() {
			continue
		}
		s, stored, err := cli.Store.MsgSecrets.GetMessageSecret(ctx, chat, a, v.Key.ID)
		if err != nil {
			return nil, Errorf(CodeStoreFailed, "sendMessage: reading the poll's secret: %w", err)
		}
		if s != nil {
			secret, author = s, stored
			break
		}
	}
	if secret == nil {
		return nil, contentErr("vote.key: no poll %s in this session's store (its message secret is missing)", v.Key.ID)
	}
	voter := own
	if author.Server == types.HiddenUserServer && !ownLID.IsEmpty() {
		voter = ownLID
	}
	enc, err := pollvote.Encrypt(secret, v.Key.ID, author, voter, v.Options)
	if err != nil {
		return nil, Errorf(CodeSend, "sendMessage: encrypting the vote: %w", err)
	}
	key := &waCommon.MessageKey{RemoteJID: proto.String(chat.String()), FromMe: proto.Bool(v.Key.FromMe), ID: proto.String(v.Key.ID)}
	if chat.Server == types.GroupServer {
		key.Participant = proto.String(author.ToNonAD().String())
	}
	return &waE2E.Message{PollUpdateMessage: &waE2E.PollUpdateMessage{
		PollCreationMessageKey: key, Vote: enc, SenderTimestampMS: proto.Int64(time.Now().UnixMilli()),
	}}, nil
}
