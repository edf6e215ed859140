package libsignalnode_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/wasmeow/wasmeow/baileysauth/libsignalnode"
)

func senderKeyToGo(t *testing.T, nodeRec []byte) []byte {
	t.Helper()
	out, err := libsignalnode.SenderKeyToWhatsmeow(nodeRec)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Bob's Baileys sender key for Alice's group, converted, decrypts in
// whatsmeow a message Bob skipped (its seed kept) and Alice's next one; and
// Alice's own sender key, converted, encrypts in whatsmeow what Bob reads.
func TestNodeSenderKeyGoesOnInWhatsmeow(t *testing.T) {
	f := loadFixture(t)
	ctx := context.Background()
	bob := device(t, f.Bob)
	if err := bob.SenderKeys.PutSenderKey(ctx, groupID, "alice:1", senderKeyToGo(t, f.BobSenderKey)); err != nil {
		t.Fatal(err)
	}
	for _, m := range f.GroupToBob {
		got, err := groupDecrypt(t, bob, "alice", m)
		wantText(t, got, err, m.Text)
	}

	alice := device(t, f.Alice)
	if err := alice.SenderKeys.PutSenderKey(ctx, groupID, "alice:1", senderKeyToGo(t, f.AliceSenderKey)); err != nil {
		t.Fatal(err)
	}
	ct, err := groupCipher(alice, "alice").Encrypt(ctx, []byte("g5"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := groupDecrypt(t, bob, "alice", wireMsg{Body: ct.SignedSerialize()})
	wantText(t, got, err, "g5")
}

// Both formats keep the seeds, so both round trips are exact.
func TestSenderKeyRoundTrips(t *testing.T) {
	f := loadFixture(t)
	for name, nodeRec := range map[string][]byte{"bob": f.BobSenderKey, "alice": f.AliceSenderKey} {
		t.Run(name, func(t *testing.T) {
			goRec := senderKeyToGo(t, nodeRec)
			back, err := libsignalnode.SenderKeyFromWhatsmeow(goRec)
			if err != nil {
				t.Fatal(err)
			}
			var want, got any
			if err := json.Unmarshal(nodeRec, &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(back, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(want, got) {
				t.Fatalf("Baileys -> whatsmeow -> Baileys changed the record\nwant %s\ngot  %s", nodeRec, back)
			}
			again := senderKeyToGo(t, back)
			if !reflect.DeepEqual(senderStructure(t, goRec), senderStructure(t, again)) {
				t.Fatalf("whatsmeow -> Baileys -> whatsmeow changed the record\nwant %s\ngot  %s", goRec, again)
			}
		})
	}
}

func senderStructure(t *testing.T, rec []byte) any {
	t.Helper()
	s, err := pb.SenderKeyRecord.Deserialize(rec)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBadSenderKeys(t *testing.T) {
	for name, rec := range map[string]string{
		"not json":          `[`,
		"not an array":      `{}`,
		"short seed":        `[{"senderKeyId":1,"senderChainKey":{"iteration":0,"seed":{"type":"Buffer","data":[1,2]}},"senderSigningKey":{"public":"BQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","private":[]},"senderMessageKeys":[]}]`,
		"byte out of range": `[{"senderKeyId":1,"senderChainKey":{"iteration":0,"seed":[256]},"senderSigningKey":{"public":[],"private":[]},"senderMessageKeys":[]}]`,
		"no signing key":    `[{"senderKeyId":1,"senderChainKey":{"iteration":0,"seed":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},"senderSigningKey":{"public":[],"private":[]},"senderMessageKeys":[]}]`,
	} {
		if _, err := libsignalnode.SenderKeyToWhatsmeow([]byte(rec)); err == nil {
			t.Errorf("%s: converted", name)
		}
	}
}
