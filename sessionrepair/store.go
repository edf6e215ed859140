package sessionrepair

import (
	"context"

	waLog "go.mau.fi/whatsmeow/util/log"

	"go.mau.fi/whatsmeow/store"
)

// Store is a store.SessionStore whose PutSession, under a context marked by
// Decrypting, repairs the record against the one stored before.
type Store struct {
	store.SessionStore
	Log waLog.Logger
}

// Wrap puts s behind a Store (once).
func Wrap(s store.SessionStore, log waLog.Logger) store.SessionStore {
	if _, ok := s.(*Store); ok || s == nil {
		return s
	}
	if log == nil {
		log = waLog.Noop
	}
	return &Store{SessionStore: s, Log: log}
}

func (s *Store) PutSession(ctx context.Context, address string, session []byte) error {
	if InDecryption(ctx) && HasPreviousStates(session) {
		before, err := s.GetSession(ctx, address)
		if err != nil {
			return err
		}
		if before != nil {
			fixed, changed, err := Repair(before, session)
			if err != nil {
				// A record this process cannot read back is stored as
				// whatsmeow made it: repairing is best effort, never a loss.
				s.Log.Warnf("Not repairing the session with %s: %v", address, err)
			} else if changed {
				s.Log.Debugf("Put back the session states with %s that a failed decryption attempt changed", address)
				session = fixed
			}
		}
	}
	return s.SessionStore.PutSession(ctx, address, session)
}
