package memkv_test

import (
	"context"
	"errors"
	"testing"

	"github.com/wasmeow/wasmeow/kv"
	"github.com/wasmeow/wasmeow/kv/kvtest"
	"github.com/wasmeow/wasmeow/kv/memkv"
)

func TestConformance(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.Backend { return memkv.New() })
}

func TestClosed(t *testing.T) {
	b := memkv.New()
	_ = b.Close()
	if _, err := b.Get(context.Background(), "t", []string{"k"}); !errors.Is(err, kv.ErrClosed) {
		t.Fatalf("get after close: %v", err)
	}
}
