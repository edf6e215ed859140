//go:build !js

package core

import (
	"slices"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"google.golang.org/protobuf/proto"
)

// Votes both ways with a phone, LID-addressed: the phone's vote in our poll
// comes as poll_vote with the option names; our vote in the phone's poll is
// read by the phone (which decrypts with our LID, as clients do today).
func TestPollVotesBothWays(t *testing.T) {
	t.Parallel()
	me, peer := newAccount(t, "Pola"), newAccount(t, "Vito")
	c := newClient(t, Options{}, nil, nil)
	pairQR(t, c, me)
	exchange(t, c, me, peer, "1")

	poll, err := c.SendMessage(ctxT(t), peer, []byte(`{"poll":{"name":"Lunch?","options":["pizza","salad","soup"],"selectableCount":0}}`))
	if err != nil {
		t.Fatal(err)
	}
	receivedBy(t, peer, poll.ID)
	from := c.rec.count()
	if _, err := srv.Vote(peer, poll.ID, []string{"soup", "pizza"}); err != nil {
		t.Fatal(err)
	}
	v := waitFor(t, c.rec, from, 20*time.Second, func(m Message) bool { return m.Type == MsgPollVote })
	if v.PollVote == nil || v.PollVote.Error != "" || v.PollVote.Key.ID != poll.ID || !v.PollVote.Key.FromMe ||
		!slices.Equal(v.PollVote.SelectedOptions, []string{"soup", "pizza"}) || len(v.PollVote.SelectedHashes) != 2 {
		t.Fatalf("vote event %+v", v.PollVote)
	}

	from = c.rec.count()
	theirs, err := srv.SendMessage(peer, me, &waE2E.Message{PollCreationMessage: &waE2E.PollCreationMessage{
		Name: proto.String("When?"), Options: []*waE2E.PollCreationMessage_Option{{OptionName: proto.String("Mon")}, {OptionName: proto.String("Tue")}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	p := waitFor(t, c.rec, from, 20*time.Second, func(m Message) bool { return m.ID == theirs })
	key := `{"remoteJid":"` + p.Chat + `","fromMe":false,"id":"` + theirs + `"}`
	if _, err := c.SendMessage(ctxT(t), peer, []byte(`{"vote":{"key":`+key+`,"options":["Wed"]}}`)); CodeOf(err) != CodeInvalidOption {
		t.Fatalf("a vote for an option the poll lacks: %v", err)
	}
	mine, err := c.SendMessage(ctxT(t), peer, []byte(`{"vote":{"key":`+key+`,"options":["Tue"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	got := receivedBy(t, peer, mine.ID)
	if got.PollVote == nil || got.PollVote.Poll != theirs || !slices.Equal(got.PollVote.Options, []string{"Tue"}) {
		t.Fatalf("the phone read our vote as %+v", got.PollVote)
	}
	if _, err := c.SendMessage(ctxT(t), peer, []byte(`{"vote":{"key":{"remoteJid":"`+peer+`@s.whatsapp.net","fromMe":false,"id":"3EB0NOSUCHPOLL"},"options":["a"]}}`)); CodeOf(err) != CodeInvalidOption {
		t.Fatalf("a vote in an unknown poll: %v", err)
	}
}
