// Command gen writes the layout fixtures of idbstore/testdata/layouts: it
// stores one known data set through the idbstore of the checkout it is built
// in, on memkv, and dumps every record of every table idbstore.Tables names
// (at that commit) as JSON. It is kept here as the description of how each
// fixture was made; it is not built with the module (testdata).
//
// For an earlier layout, run it in a temporary worktree of that commit:
//
//	git worktree add /tmp/layout-old <commit>
//	mkdir -p /tmp/layout-old/cmd/layoutgen
//	cp idbstore/testdata/layouts/gen/main.go /tmp/layout-old/cmd/layoutgen/
//	(cd /tmp/layout-old && go run ./cmd/layoutgen -commit <commit> -note '...') > idbstore/testdata/layouts/<name>.json
//	git worktree remove --force /tmp/layout-old
//
// The data set must stay in step with idbstore's layout_test.go, which
// checks every record of it. It dumps the tables idbstore.Tables named at
// that commit (layouts before versions had no other); for a later layout,
// dump idbstore.DumpTables instead.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"

	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/kv"
	"github.com/wasmeow/wasmeow/kv/memkv"
)

type fixture struct {
	Commit string               `json:"commit"`
	Note   string               `json:"note"`
	Tables map[string][]kv.Pair `json:"tables"`
}

type keepOpen struct{ kv.Backend }

func (keepOpen) Close() error { return nil }

func main() {
	commit := flag.String("commit", "", "the commit this checkout is at")
	note := flag.String("note", "", "what layout this is")
	flag.Parse()
	if err := run(*commit, *note); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func fill(n int, b byte) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b + byte(i)
	}
	return out
}

func run(commit, note string) error {
	ctx := context.Background()
	mem := memkv.New()
	c, err := idbstore.New(ctx, keepOpen{mem}, nil)
	if err != nil {
		return err
	}
	d := c.NewDevice()
	jid := types.JID{User: "15550009999", Device: 7, Server: types.DefaultUserServer}
	d.ID = &jid
	d.LID = types.JID{User: "999000999", Device: 7, Server: types.HiddenUserServer}
	d.Account = &waAdv.ADVSignedDeviceIdentity{Details: fill(20, 1), AccountSignature: fill(64, 2), AccountSignatureKey: fill(32, 3), DeviceSignature: fill(64, 4)}
	d.Platform, d.PushName = "web", "Fixture"
	if err := c.PutDevice(ctx, d); err != nil {
		return fmt.Errorf("PutDevice: %w", err)
	}
	must := func(what string, err error) {
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
			os.Exit(1)
		}
	}
	// Contacts: 40, every one with a contact name, every 2nd a push name,
	// every 5th a business name, every 7th a redacted phone.
	var redacted []store.RedactedPhoneEntry
	for i := 0; i < 40; i++ {
		u := types.JID{User: fmt.Sprintf("1555100%04d", i), Server: types.DefaultUserServer}
		must("PutContactName", d.Contacts.PutContactName(ctx, u, fmt.Sprintf("Full %d", i), fmt.Sprintf("First %d", i)))
		if i%2 == 0 {
			_, _, err := d.Contacts.PutPushName(ctx, u, fmt.Sprintf("Push %d", i))
			must("PutPushName", err)
		}
		if i%5 == 0 {
			_, _, err := d.Contacts.PutBusinessName(ctx, u, fmt.Sprintf("Biz %d", i))
			must("PutBusinessName", err)
		}
		if i%7 == 0 {
			redacted = append(redacted, store.RedactedPhoneEntry{JID: u, RedactedPhone: fmt.Sprintf("+1 555 ***-%02d", i)})
		}
	}
	must("PutManyRedactedPhones", d.Contacts.PutManyRedactedPhones(ctx, redacted))
	// Prekeys: 1-30, 1-20 uploaded (by the mark), 3 removed, 31 generated
	// uploaded (by its flag).
	_, err = d.PreKeys.GetOrGenPreKeys(ctx, 30)
	must("GetOrGenPreKeys", err)
	must("MarkPreKeysAsUploaded", d.PreKeys.MarkPreKeysAsUploaded(ctx, 20))
	_, err = d.PreKeys.GenOnePreKey(ctx)
	must("GenOnePreKey", err)
	must("RemovePreKey", d.PreKeys.RemovePreKey(ctx, 3))
	for i := 0; i < 5; i++ {
		addr := fmt.Sprintf("1555200%04d:0", i)
		must("PutSession", d.Sessions.PutSession(ctx, addr, []byte(fmt.Sprintf("session %d", i))))
		must("PutIdentity", d.Identities.PutIdentity(ctx, addr, [32]byte(fill(32, byte(i*32)))))
		must("PutSenderKey", d.SenderKeys.PutSenderKey(ctx, "120363000000000001@g.us", addr, []byte(fmt.Sprintf("sender key %d", i))))
	}
	for i := 0; i < 3; i++ {
		must("PutAppStateSyncKey", d.AppStateKeys.PutAppStateSyncKey(ctx, []byte{0, 0, 1, byte(i)}, store.AppStateSyncKey{Data: fill(32, byte(i)), Fingerprint: fill(8, byte(i)), Timestamp: int64(1700000000 + i)}))
	}
	must("PutAppStateVersion", d.AppState.PutAppStateVersion(ctx, "regular", 5, [128]byte(fill(128, 9))))
	must("PutAppStateMutationMACs", d.AppState.PutAppStateMutationMACs(ctx, "regular", 5, []store.AppStateMutationMAC{
		{IndexMAC: fill(32, 10), ValueMAC: fill(32, 11)}, {IndexMAC: fill(32, 12), ValueMAC: fill(32, 13)},
	}))
	chat := types.JID{User: "15551000001", Server: types.DefaultUserServer}
	must("PutPinned", d.ChatSettings.PutPinned(ctx, chat, true))
	must("PutArchived", d.ChatSettings.PutArchived(ctx, chat, true))
	must("PutMutedUntil", d.ChatSettings.PutMutedUntil(ctx, chat, time.Unix(2000000000, 0)))
	must("PutMessageSecret", d.MsgSecrets.PutMessageSecret(ctx, chat, chat, "3EB0FIXTURE", fill(32, 20)))
	must("PutPrivacyTokens", d.PrivacyTokens.PutPrivacyTokens(ctx, store.PrivacyToken{User: chat, Token: fill(16, 30), Timestamp: time.Unix(1700000100, 0)}))
	must("PutLIDMapping", d.LIDs.PutLIDMapping(ctx, types.JID{User: "999000111", Server: types.HiddenUserServer}, chat))
	must("PutBufferedEvent", d.EventBuffer.PutBufferedEvent(ctx, [32]byte(fill(32, 40)), []byte("buffered plaintext"), time.Unix(1700000200, 0)))
	must("Flush", c.Flush(ctx))

	out := fixture{Commit: commit, Note: note, Tables: map[string][]kv.Pair{}}
	for _, t := range idbstore.Tables {
		pairs, err := mem.Scan(ctx, t, "")
		if err != nil {
			return err
		}
		if len(pairs) > 0 {
			out.Tables[t] = pairs
		}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	return enc.Encode(out)
}
