package snapshot

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/wasmeow/wasmeow/kv"
	"github.com/wasmeow/wasmeow/kv/memkv"
)

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := memkv.New()
	if err := src.Commit(ctx, []kv.Op{
		{Table: "device", Key: "1", Value: []byte{0, 1, 2, 255}},
		{Table: "sessions", Key: "a|b", Value: []byte("s1")},
		{Table: "sessions", Key: "a|c", Value: []byte{}},
		{Table: "ignored", Key: "x", Value: []byte("not captured")},
	}); err != nil {
		t.Fatal(err)
	}
	snap, err := Capture(ctx, src, "c1", []string{"device", "sessions", "empty"})
	if err != nil {
		t.Fatal(err)
	}
	blob, err := snap.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(blob, []string{"device", "sessions", "empty"})
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientID != "c1" || got.Records() != 3 || got.SavedAt.IsZero() {
		t.Fatalf("decoded %+v", got)
	}
	dst := memkv.New()
	if err := got.Restore(ctx, dst); err != nil {
		t.Fatal(err)
	}
	vals, _ := dst.Get(ctx, "sessions", []string{"a|b", "a|c"})
	dev, _ := dst.Get(ctx, "device", []string{"1"})
	if string(vals[0]) != "s1" || vals[1] == nil || len(vals[1]) != 0 || !bytes.Equal(dev[0], []byte{0, 1, 2, 255}) {
		t.Fatalf("restored %q %q", vals, dev)
	}
	if other, _ := dst.Scan(ctx, "ignored", ""); len(other) != 0 {
		t.Fatal("a table not asked for was captured")
	}
}

func gz(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

func TestDecodeRejects(t *testing.T) {
	for name, c := range map[string]struct {
		blob []byte
		want string
	}{
		"not gzip":      {[]byte("PK\x03\x04 a zip"), "not gzip"},
		"not json":      {gz("{"), "decoding JSON"},
		"wrong format":  {gz(`{"format":"other","version":1}`), `format is "other"`},
		"newer version": {gz(`{"format":"wasmeow-session","version":2}`), "version 2 is not supported"},
		"unknown table": {gz(`{"format":"wasmeow-session","version":1,"tables":{"bogus":[]}}`), `unknown table "bogus"`},
	} {
		_, err := Decode(c.blob, []string{"device"})
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
