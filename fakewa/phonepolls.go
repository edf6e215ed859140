//go:build !js

package fakewa

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"slices"
	"time"

	"go.mau.fi/whatsmeow/proto/waCommon"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"

	"github.com/wasmeow/wasmeow/pollvote"
)

// Polls on the simulated phones, as a real client keeps them: a poll it
// sends gets a random 32-byte message secret (whatsmeow BuildPollCreation
// sets MessageContextInfo.MessageSecret); it remembers the secret and
// options of the polls it sent and received, decrypts the votes it gets
// (ReceivedMessage.PollVote: the chosen option names) and votes itself,
// encrypting as pollvote says. Author and voter JIDs take the form the chat
// addresses people in: LIDs (today's 1:1 chats, LID groups), else phone
// numbers; upstream whatsmeow encrypts with its LID too (msgsecret.go
// EncryptPollVote uses getOwnLID since 2026; the pinned one uses the phone
// number, which works only in phone-number chats).
//
//	POST /api/accounts/{phone}/vote {"poll": id, "options": [names]} -> {"id"}

// phonePoll is what a phone keeps of a poll.
type phonePoll struct {
	author  *account
	chat    types.JID // the group, or the other user of a 1:1 chat (PN)
	options []string
	secret  []byte
}

// maxPhonePolls bounds the polls a phone remembers.
const maxPhonePolls = 1000

func pollOf(msg *waE2E.Message) *waE2E.PollCreationMessage {
	for _, p := range []*waE2E.PollCreationMessage{msg.GetPollCreationMessage(), msg.GetPollCreationMessageV2(), msg.GetPollCreationMessageV3()} {
		if p != nil {
			return p
		}
	}
	return nil
}

// withPollSecret gives a poll without a message secret one, as clients do.
func withPollSecret(msg *waE2E.Message) {
	if pollOf(msg) == nil || len(msg.GetMessageContextInfo().GetMessageSecret()) > 0 {
		return
	}
	if msg.MessageContextInfo == nil {
		msg.MessageContextInfo = &waE2E.MessageContextInfo{}
	}
	msg.MessageContextInfo.MessageSecret = make([]byte, 32)
	_, _ = rand.Read(msg.MessageContextInfo.MessageSecret)
}

// keepPoll remembers a poll the phone sent or received (id by author in
// chat); other messages are ignored.
func (p *phone) keepPoll(id string, author *account, chat types.JID, msg *waE2E.Message) {
	poll, secret := pollOf(msg), msg.GetMessageContextInfo().GetMessageSecret()
	if poll == nil || len(secret) == 0 {
		return
	}
	kept := phonePoll{author: author, chat: chat.ToNonAD(), secret: secret}
	for _, o := range poll.GetOptions() {
		kept.options = append(kept.options, o.GetOptionName())
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.polls == nil {
		p.polls = make(map[string]phonePoll)
	}
	if len(p.polls) >= maxPhonePolls {
		for k := range p.polls { // any one: the bound only keeps memory finite
			delete(p.polls, k)
			break
		}
	}
	p.polls[id] = kept
}

// voterForm is a in the form chat addresses its people: LID or PN.
func (s *Server) voterForm(a *account, chat types.JID) types.JID {
	lid := !s.Settings().PNAddressing
	if chat.Server == types.GroupServer {
		s.mu.Lock()
		if g, err := s.groupLocked(chat); err == nil {
			lid = g.lidMode
		}
		s.mu.Unlock()
	}
	if lid {
		return a.LID
	}
	return a.JID
}

// readVote decrypts a vote from voter: the chosen option names, or why not.
func (p *phone) readVote(s *Server, voter *account, upd *waE2E.PollUpdateMessage) ([]string, error) {
	id := upd.GetPollCreationMessageKey().GetID()
	p.mu.Lock()
	poll, ok := p.polls[id]
	p.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("no poll %q known to the phone", id)
	}
	hashes, err := pollvote.Decrypt(poll.secret, id, s.voterForm(poll.author, poll.chat), s.voterForm(voter, poll.chat), upd.GetVote())
	if err != nil {
		return nil, err
	}
	return pollvote.Names(poll.options, hashes), nil
}

// noteReceived keeps a received poll and reads a received vote; it gives
// what ReceivedMessage reports of a vote (nil for other messages).
func (p *phone) noteReceived(s *Server, id string, sender *account, chat types.JID, msg *waE2E.Message) *ReceivedVote {
	p.keepPoll(id, sender, chat, msg)
	upd := msg.GetPollUpdateMessage()
	if upd == nil {
		return nil
	}
	names, err := p.readVote(s, sender, upd)
	if err != nil {
		s.log.Warnf("phone %s: vote %s from %s: %v", p.acct.Phone, id, sender.Phone, err)
		return &ReceivedVote{Poll: upd.GetPollCreationMessageKey().GetID(), Error: err.Error()}
	}
	return &ReceivedVote{Poll: upd.GetPollCreationMessageKey().GetID(), Options: names}
}

// ReceivedVote is a poll vote a phone received, decrypted.
type ReceivedVote struct {
	Poll    string   `json:"poll"`              // the poll's message id
	Options []string `json:"options,omitempty"` // the chosen option names
	Error   string   `json:"error,omitempty"`   // why it could not be read
}

// Vote has the account's phone vote for options (names; none withdraws
// its vote) in a poll it sent or received. It returns the vote's id.
func (s *Server) Vote(phone, pollID string, options []string) (string, error) {
	a, err := s.lookupAccount(phone)
	if err != nil {
		return "", err
	}
	a.phone.mu.Lock()
	poll, ok := a.phone.polls[pollID]
	a.phone.mu.Unlock()
	if !ok {
		return "", fmt.Errorf("phone %s knows no poll %q", a.Phone, pollID)
	}
	for _, o := range options {
		if !slices.Contains(poll.options, o) {
			return "", fmt.Errorf("poll %q has no option %q", pollID, o)
		}
	}
	author := s.voterForm(poll.author, poll.chat)
	enc, err := pollvote.Encrypt(poll.secret, pollID, author, s.voterForm(a, poll.chat), options)
	if err != nil {
		return "", err
	}
	key := &waCommon.MessageKey{RemoteJID: proto.String(poll.chat.String()), FromMe: proto.Bool(poll.author == a), ID: proto.String(pollID)}
	if poll.chat.Server == types.GroupServer {
		key.Participant = proto.String(author.String())
	} else if poll.author != a {
		key.RemoteJID = proto.String(author.String())
	}
	to := poll.chat
	if poll.chat.Server != types.GroupServer && poll.author != a {
		to = poll.author.JID
	}
	return s.SendMessage(phone, to.String(), &waE2E.Message{PollUpdateMessage: &waE2E.PollUpdateMessage{
		PollCreationMessageKey: key, Vote: enc, SenderTimestampMS: proto.Int64(time.Now().UnixMilli()),
	}})
}

func (s *Server) phonePollRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/accounts/{phone}/vote", func(w http.ResponseWriter, r *http.Request) {
		defer s.recoverAPI(w, r)
		var req struct {
			Poll    string   `json:"poll"`
			Options []string `json:"options"`
		}
		if err := readJSON(r, &req); err != nil {
			writeErr(w, http.StatusBadRequest, err)
			return
		}
		id, err := s.Vote(r.PathValue("phone"), req.Poll, req.Options)
		if err != nil {
			writeErr(w, http.StatusConflict, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"id": id})
	})
}
