//go:build js

package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/wasmeow/wasmeow/jsbridge"
	"github.com/wasmeow/wasmeow/wasm/snapshot"
)

// saveDebounce gathers a burst of commits (a login writes hundreds of keys)
// into one snapshot.
const saveDebounce = 2 * time.Second

// remoteSync saves snapshots of a remote-strategy session to the user's
// store: after changes (debounced) and on every interval tick, while the
// device is registered.
type remoteSync struct {
	sess     *session
	onSaved  func(info map[string]any)
	onError  func(err error)
	mu       sync.Mutex
	timer    *time.Timer
	stop     chan struct{}
	stopped  bool
	saving   sync.Mutex // one save at a time, in order
	lastSave time.Time
}

func startRemoteSync(s *session, interval time.Duration, onSaved func(map[string]any), onError func(error)) *remoteSync {
	r := &remoteSync{sess: s, onSaved: onSaved, onError: onError, stop: make(chan struct{})}
	s.onCommit = r.changed
	go func() {
		// A goroutine of its own: a panic here would end the Go program.
		defer func() {
			if p := recover(); p != nil {
				onError(fmt.Errorf("remote sync of %q stopped: internal error (recovered panic): %v", s.opts.clientID, p))
			}
		}()
		t := time.NewTicker(max(interval, minBackupInterval))
		defer t.Stop()
		for {
			select {
			case <-r.stop:
				return
			case <-t.C:
				r.saveReported()
			}
		}
	}()
	return r
}

// changed schedules a save saveDebounce after the latest change.
func (r *remoteSync) changed() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	if r.timer != nil {
		r.timer.Stop()
	}
	r.timer = time.AfterFunc(saveDebounce, r.saveReported)
}

// saveReported runs on timers, outside any JS entry point: it reports
// failures (a panic included, which would otherwise end the Go program) as
// error events.
func (r *remoteSync) saveReported() {
	defer func() {
		if p := recover(); p != nil {
			r.onError(fmt.Errorf("remote save of %q: internal error (recovered panic): %v", r.sess.opts.clientID, p))
		}
	}()
	if _, err := r.save(context.Background()); err != nil {
		r.onError(err)
	}
}

// save writes a snapshot now (if the device is registered) and reports
// whether it did.
func (r *remoteSync) save(ctx context.Context) (bool, error) {
	r.saving.Lock()
	defer r.saving.Unlock()
	r.mu.Lock()
	stopped := r.stopped
	r.mu.Unlock()
	s := r.sess
	if stopped || s.device == nil || s.device.ID == nil {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	// Group commit may still hold writes: a snapshot must include them.
	if err := s.container.Flush(ctx); err != nil {
		return false, fmt.Errorf("remote save of %q: flushing: %w", s.opts.clientID, err)
	}
	snap, blob, err := s.capture(ctx)
	if err != nil {
		return false, fmt.Errorf("remote save of %q: %w", s.opts.clientID, err)
	}
	if _, err := jsbridge.CallStore(ctx, s.opts.storeTimeout, s.opts.remoteStore, "auth.store.save()", "save", map[string]any{
		"session": s.opts.clientID, "data": jsbridge.BytesToJS(blob),
	}); err != nil {
		return false, fmt.Errorf("remote save of %q: store.save: %w", s.opts.clientID, err)
	}
	r.lastSave = snap.SavedAt
	r.onSaved(map[string]any{
		"session": s.opts.clientID, "bytes": len(blob), "records": snap.Records(),
		"savedAt": snap.SavedAt.UnixMilli(), "format": snapshot.Format, "version": snapshot.Version,
	})
	return true, nil
}

// close stops the timers; with final set, a pending change is saved first.
func (r *remoteSync) close(ctx context.Context, final bool) error {
	r.mu.Lock()
	pending := r.timer != nil && r.timer.Stop()
	r.mu.Unlock()
	var err error
	if final && pending {
		_, err = r.save(ctx)
	}
	r.mu.Lock()
	if !r.stopped {
		r.stopped = true
		close(r.stop)
	}
	r.mu.Unlock()
	r.sess.onCommit = nil
	return err
}

// deleteRemote removes the user's remote copy: only on a confirmed logout.
func deleteRemote(ctx context.Context, o *options) error {
	if _, err := jsbridge.CallStore(ctx, o.storeTimeout, o.remoteStore, "auth.store.delete()", "delete", map[string]any{"session": o.clientID}); err != nil {
		return fmt.Errorf("deleting the remote copy of %q: store.delete: %w", o.clientID, err)
	}
	return nil
}
