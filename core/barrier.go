package core

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/wasmeow/wasmeow/idbstore"
)

// WriteBarrier is the websocket's write barrier (websocket.SetWriteBarrier,
// set once per process): no frame (an ack, a receipt, a reply) leaves
// before the state it depends on is durable, which is what makes idbstore's
// group commit honest. A failure is reported to the session's client, and
// the frame is not sent.
func WriteBarrier(ctx context.Context) error {
	if owner, ok := ctx.Value(socketOwnerKey{}).(func() *session); ok {
		if s := owner(); s != nil {
			return s.flushForWrite(ctx)
		}
		return nil
	}
	return flushAll(ctx)
}

func (s *session) flushForWrite(ctx context.Context) error {
	// The page first gets what was decrypted before this frame, and
	// whatsmeow's plaintext clears behind it are queued (pagequeue.go).
	err := s.pages.drain(ctx)
	if err == nil {
		err = s.container.Flush(ctx)
	}
	if err == nil || errors.Is(err, idbstore.ErrClosed) {
		return nil
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		// The socket is closing (its context ended) while the commit is still
		// under way: the commit goes on and the frame is not sent, which is
		// right. That is a lost connection, not a storage failure, and the
		// error says so (a send it interrupts rejects with it).
		return fmt.Errorf("the connection closed while the frame waited for its state to be stored: %w", ctx.Err())
	}
	s.onFailure(err)
	return err
}

// socketOwnerKey tags the context a client connects with, which whatsmeow
// passes on to every write of that connection (reconnects included): the
// barrier then waits for that session only, and one session that cannot
// store does not stall the others.
type socketOwnerKey struct{}

func withSocketOwner(ctx context.Context, s func() *session) context.Context {
	return context.WithValue(ctx, socketOwnerKey{}, s)
}

// Every open session, for a write whose socket has no owner (none is
// expected): it waits for all of them.
var (
	sessionsMu sync.Mutex
	sessions   = map[*session]struct{}{}
)

func registerSession(s *session) {
	sessionsMu.Lock()
	defer sessionsMu.Unlock()
	sessions[s] = struct{}{}
}

func unregisterSession(s *session) {
	sessionsMu.Lock()
	defer sessionsMu.Unlock()
	delete(sessions, s)
}

func flushAll(ctx context.Context) error {
	sessionsMu.Lock()
	all := slices.Collect(maps.Keys(sessions))
	sessionsMu.Unlock()
	var errs []error
	for _, s := range all {
		errs = append(errs, s.flushForWrite(ctx))
	}
	return errors.Join(errs...)
}
