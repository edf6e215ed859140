package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mau.fi/whatsmeow"
)

// Sync work that whatsmeow would only log when it fails (a history-sync
// blob, an app-state collection) is run here instead: a failure is tried
// again after a growing delay (a cut socket or a host that is down for a
// while heals), and only what is lost for good (every attempt failed, or the
// blob is gone from the host) emits an error event with code sync_failed
// naming what was lost and why.

// syncBackoff are the waits before the second, third, ... attempt; one
// attempt more than waits is made.
var syncBackoff = []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second}

// gone tells a failure that no retry can heal: the blob is deleted or expired.
func gone(err error) bool {
	return errors.Is(err, whatsmeow.ErrMediaDownloadFailedWith404) || errors.Is(err, whatsmeow.ErrMediaDownloadFailedWith410)
}

// retrySync runs do until it succeeds, while cli is still the client's
// whatsmeow client; lost says what the page misses if it never does, in
// the error event it then emits.
func (c *Client) retrySync(cli *whatsmeow.Client, lost string, do func(context.Context) error) error {
	why, err := c.retryUntil(cli, lost, do)
	if why != "" {
		c.emitSyncFailed(lost, err, why)
	}
	return err
}

func (c *Client) emitSyncFailed(lost string, err error, why string) {
	c.emit(ErrorEvent{Errorf(CodeSyncFailed, "%s was not received: %v; %s", lost, err, why)})
}

// retryUntil is retrySync without the event: it gives why it stopped when
// the page is to be told (empty on success, or when the client went away),
// and the last error.
func (c *Client) retryUntil(cli *whatsmeow.Client, lost string, do func(context.Context) error) (string, error) {
	ctx := context.Background()
	for i := 0; ; i++ {
		err := do(ctx)
		if err == nil {
			return "", nil
		}
		if cur, alive := c.current(); alive != nil || cur != cli {
			return "", err // destroyed or wiped: nobody to tell
		}
		var final string
		switch {
		case gone(err):
			final = "not retried: the blob is gone from the media host"
		case i >= len(c.syncBackoff):
			final = fmt.Sprintf("gave up after %d attempts", i+1)
		}
		if final != "" {
			c.log.Errorf("%s lost: %v (%s)", lost, err, final)
			return final, err
		}
		c.log.Warnf("%s failed: %v; retrying in %s", lost, err, c.syncBackoff[i])
		time.Sleep(c.syncBackoff[i])
	}
}
