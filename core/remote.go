package core

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/kv"
	"github.com/wasmeow/wasmeow/wasm/snapshot"
)

// saveDebounce gathers a burst of commits (a login writes hundreds of keys)
// into one snapshot.
const saveDebounce = 2 * time.Second

// remoteStore is the user's RemoteStore for one session, with its errors
// worded for the page.
type remoteStore struct {
	RemoteStore
	clientID string
}

// restoreIfMissing fills b from the user's store when b holds no device and
// the store has a snapshot of the session.
func (r *remoteStore) restoreIfMissing(ctx context.Context, b kv.Backend) (bool, error) {
	have, err := idbstore.HasDevice(ctx, b)
	if err != nil {
		return false, fmt.Errorf("checking for a local copy of %q: %w", r.clientID, err)
	}
	if have {
		return false, nil
	}
	exists, err := r.SessionExists(ctx, r.clientID)
	if err != nil {
		return false, Errorf(CodeRestoreFailed, "remote restore of %q: store.sessionExists: %w", r.clientID, err)
	}
	if !exists {
		return false, nil
	}
	blob, err := r.Extract(ctx, r.clientID)
	if err != nil {
		return false, Errorf(CodeRestoreFailed, "remote restore of %q: store.extract: %w", r.clientID, err)
	}
	snap, err := DecodeSnapshot(blob)
	if err != nil {
		return false, Errorf(CodeRestoreFailed, "remote restore of %q: %w", r.clientID, err)
	}
	if err := snap.Restore(ctx, b); err != nil {
		return false, Errorf(CodeRestoreFailed, "remote restore of %q: %w", r.clientID, err)
	}
	return true, nil
}

// delete removes the user's remote copy: only on a confirmed logout.
func (r *remoteStore) delete(ctx context.Context) error {
	if err := r.Delete(ctx, r.clientID); err != nil {
		return fmt.Errorf("deleting the remote copy of %q: store.delete: %w", r.clientID, err)
	}
	return nil
}

// remoteSync saves snapshots of a remote-strategy session to the user's
// store: after changes (debounced) and on every interval tick, while the
// device is registered.
type remoteSync struct {
	sess     *session
	store    *remoteStore
	onSaved  func(RemoteSessionSaved)
	onError  func(err error)
	mu       sync.Mutex
	timer    *time.Timer
	stop     chan struct{}
	stopped  bool
	saving   sync.Mutex // one save at a time, in order
	lastSave time.Time
}

func startRemoteSync(s *session, st *remoteStore, interval time.Duration, onSaved func(RemoteSessionSaved), onError func(error)) *remoteSync {
	r := &remoteSync{sess: s, store: st, onSaved: onSaved, onError: onError, stop: make(chan struct{})}
	changed := r.changed
	s.onCommit.Store(&changed)
	go func() {
		// A goroutine of its own: a panic here would end the Go program.
		defer func() {
			if p := recover(); p != nil {
				onError(fmt.Errorf("remote sync of %q stopped: internal error (recovered panic): %v", s.clientID, p))
			}
		}()
		t := time.NewTicker(max(interval, MinBackupInterval))
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

// saveReported runs on timers, outside any call of the page: it reports
// failures (a panic included, which would otherwise end the Go program) as
// error events.
func (r *remoteSync) saveReported() {
	defer func() {
		if p := recover(); p != nil {
			r.onError(fmt.Errorf("remote save of %q: internal error (recovered panic): %v", r.sess.clientID, p))
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
		return false, fmt.Errorf("remote save of %q: flushing: %w", s.clientID, err)
	}
	snap, blob, err := s.capture(ctx)
	if err != nil {
		return false, fmt.Errorf("remote save of %q: %w", s.clientID, err)
	}
	if err := r.store.Save(ctx, s.clientID, blob); err != nil {
		return false, fmt.Errorf("remote save of %q: store.save: %w", s.clientID, err)
	}
	r.lastSave = snap.SavedAt
	r.onSaved(RemoteSessionSaved{
		Session: s.clientID, Bytes: len(blob), Records: snap.Records(),
		SavedAt: snap.SavedAt.UnixMilli(), Format: snapshot.Format, Version: snapshot.Version,
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
	r.sess.onCommit.Store(nil)
	return err
}
