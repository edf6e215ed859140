package errcode

import (
	"errors"
	"fmt"
	"testing"
)

func TestCodesSurviveWrapping(t *testing.T) {
	inner := Errorf("store_failed", "the store threw")
	if got := Of(fmt.Errorf("saving: %w", inner)); got != "store_failed" {
		t.Fatalf("wrapped: %q", got)
	}
	if got := Of(WithCode("remote_save_failed", inner)); got != "store_failed" {
		t.Fatalf("WithCode replaced an existing code: %q", got)
	}
	if got := Of(WithCode("remote_save_failed", errors.New("plain"))); got != "remote_save_failed" {
		t.Fatalf("WithCode on a plain error: %q", got)
	}
	if WithCode("x", nil) != nil || HasCode(errors.New("plain")) || Of(nil) != "" {
		t.Fatal("nil or a plain error has a code")
	}
	if err := Errorf("invalid_option", "bad %w", inner); err.Error() != "bad the store threw" || !errors.Is(err, inner) {
		t.Fatalf("Errorf: %v", err)
	}
}
