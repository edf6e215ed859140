//go:build !js

package fakewa_test

import (
	"bytes"
	"crypto/sha256"
	"slices"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/wasmeow/wasmeow/fakewa"
)

// A phone votes in a whatsmeow client's poll and whatsmeow's own
// DecryptPollVote reads the vote (LID-addressed, today's service); the
// client votes with whatsmeow's BuildPollVote in a phone's poll and the phone
// reads it. The pinned whatsmeow encrypts its votes with its phone number
// (upstream now uses the LID), so that direction runs phone-number addressed.
func TestPhonePollVotes(t *testing.T) {
	for _, pn := range []bool{false, true} {
		srv := newServer(t, fakewa.Config{Settings: fakewa.Settings{PNAddressing: pn}})
		alice := newMember(t, srv, "15552220081", "Alice")
		carol := mustAccount(t, srv, "15552220083", "Carol")
		carolJID := types.NewJID(carol.Phone, types.DefaultUserServer)
		poll := alice.tc.cli.BuildPollCreation("Lunch?", []string{"pizza", "salad"}, 1)
		resp, err := alice.tc.cli.SendMessage(ctx10(t), carolJID, poll)
		if err != nil {
			t.Fatal(err)
		}
		waitPhoneMessage(t, srv, carol.Phone, resp.ID)
		if _, err := srv.Vote(carol.Phone, resp.ID, []string{"salad"}); err != nil {
			t.Fatal(err)
		}
		if !pn {
			vote := waitEvent(alice.tc, 10*time.Second, func(m *events.Message) bool { return m.Message.GetPollUpdateMessage() != nil })
			got, err := alice.tc.cli.DecryptPollVote(ctx10(t), vote)
			if err != nil {
				t.Fatalf("whatsmeow cannot read the phone's vote: %v", err)
			}
			want := sha256.Sum256([]byte("salad"))
			if len(got.GetSelectedOptions()) != 1 || !bytes.Equal(got.GetSelectedOptions()[0], want[:]) {
				t.Fatalf("vote %x, want the hash of salad", got.GetSelectedOptions())
			}
			if _, err := srv.Vote(carol.Phone, resp.ID, []string{"soup"}); err == nil {
				t.Fatal("a vote for an option the poll lacks was sent")
			}
			continue
		}
		// The phone's poll, and whatsmeow's vote in it.
		if _, err := srv.SendMessage(carol.Phone, alice.jid().String(), &waE2E.Message{PollCreationMessage: &waE2E.PollCreationMessage{
			Name: proto.String("When?"), SelectableOptionsCount: proto.Uint32(0),
			Options: []*waE2E.PollCreationMessage_Option{{OptionName: proto.String("Mon")}, {OptionName: proto.String("Tue")}, {OptionName: proto.String("Wed")}},
		}}); err != nil {
			t.Fatal(err)
		}
		p := waitEvent(alice.tc, 10*time.Second, func(m *events.Message) bool { return m.Message.GetPollCreationMessage() != nil })
		if len(p.Message.GetMessageContextInfo().GetMessageSecret()) != 32 {
			t.Fatal("the phone's poll carries no message secret")
		}
		voteMsg, err := alice.tc.cli.BuildPollVote(ctx10(t), &p.Info, []string{"Mon", "Wed"})
		if err != nil {
			t.Fatal(err)
		}
		vresp, err := alice.tc.cli.SendMessage(ctx10(t), p.Info.Chat, voteMsg)
		if err != nil {
			t.Fatal(err)
		}
		got := waitPhoneMessage(t, srv, carol.Phone, vresp.ID)
		if got.PollVote == nil || got.PollVote.Poll != p.Info.ID || !slices.Equal(got.PollVote.Options, []string{"Mon", "Wed"}) {
			t.Fatalf("the phone read the vote as %+v", got.PollVote)
		}
	}
}
