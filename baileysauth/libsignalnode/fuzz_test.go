package libsignalnode_test

import (
	"testing"
	"time"

	"github.com/wasmeow/wasmeow/baileysauth/libsignalnode"
)

// Hostile records, from either side, are an error, never a panic. The
// seeds are the real records of testdata; `go test -fuzz` mutates them.
func FuzzSessionRecords(f *testing.F) {
	fx := loadFixtureF(f)
	for _, r := range [][]byte{fx.BobRecord, fx.AliceRecord, fx.CarolRecord} {
		f.Add(r)
	}
	local := libsignalnode.Local{RegistrationID: 7}
	f.Fuzz(func(t *testing.T, rec []byte) {
		if out, _, err := libsignalnode.SessionToWhatsmeow(rec, local); err == nil {
			if _, _, err := libsignalnode.SessionFromWhatsmeow(out, time.Now()); err != nil {
				t.Fatalf("a converted record does not convert back: %v", err)
			}
		}
		_, _, _ = libsignalnode.SessionFromWhatsmeow(rec, time.Now())
	})
}

func FuzzSenderKeyRecords(f *testing.F) {
	fx := loadFixtureF(f)
	f.Add(fx.BobSenderKey)
	f.Add(fx.AliceSenderKey)
	f.Fuzz(func(t *testing.T, rec []byte) {
		if out, err := libsignalnode.SenderKeyToWhatsmeow(rec); err == nil {
			if _, err := libsignalnode.SenderKeyFromWhatsmeow(out); err != nil {
				t.Fatalf("a converted record does not convert back: %v", err)
			}
		}
		_, _ = libsignalnode.SenderKeyFromWhatsmeow(rec)
	})
}
