package pollvote

import (
	"bytes"
	"slices"
	"testing"

	"go.mau.fi/whatsmeow/types"
)

// A vote opens only with the same secret, poll, author and voter; the
// names come back in the voter's order, unknown hashes left out.
func TestVoteOpensOnlyForItsPollAndVoter(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	author, voter := types.NewJID("111", types.HiddenUserServer), types.NewJID("222", types.HiddenUserServer)
	enc, err := Encrypt(secret, "POLL1", author, voter, []string{"b", "a"})
	if err != nil {
		t.Fatal(err)
	}
	hashes, err := Decrypt(secret, "POLL1", author, voter, enc)
	if err != nil {
		t.Fatal(err)
	}
	if got := Names([]string{"a", "b", "c"}, append(hashes, Hash("z"))); !slices.Equal(got, []string{"b", "a"}) {
		t.Fatalf("names %q", got)
	}
	other := types.NewJID("222", types.DefaultUserServer) // the voter's phone number instead of its LID
	for what, try := range map[string]func() error{
		"another voter form": func() error { _, err := Decrypt(secret, "POLL1", author, other, enc); return err },
		"another poll":       func() error { _, err := Decrypt(secret, "POLL2", author, voter, enc); return err },
		"another secret":     func() error { _, err := Decrypt(make([]byte, 32), "POLL1", author, voter, enc); return err },
	} {
		if try() == nil {
			t.Errorf("the vote opened with %s", what)
		}
	}
	enc.EncIV = enc.EncIV[:5]
	if _, err := Decrypt(secret, "POLL1", author, voter, enc); err == nil {
		t.Error("a short IV was taken")
	}
}
