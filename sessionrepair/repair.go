// Package sessionrepair keeps a failed decryption attempt from changing a
// Signal session record.
//
// A session record holds a current state and up to 40 previous ones (two
// devices that start a session with each other at the same moment each keep
// both). To decrypt, go.mau.fi/libsignal (v0.2.1, the version whatsmeow pins)
// tries the current state, then each previous one, and works on the states
// themselves: a message from another state makes the attempt run a
// Diffie-Hellman ratchet step on the state it tries (new root key, a new
// receiving chain, a new sending ratchet key), fail on the MAC, and leave
// the state changed. When a later state succeeds, the record is stored with
// the damaged ones, and the next message the contact sends on such a state
// fails with "mismatching MAC" and "no valid sessions" (ours to them fails
// the same way): a retry receipt, or a lost message where retries run out.
// libsignal's reference implementations try copies of the states instead
// (Java's SessionCipher.decrypt builds `new SessionState(...)` per attempt;
// libsignal-node clones the record). Seen at first contact in wasmeow's kill
// suite: both sides sent first, so each record held two states.
//
// A successful decryption changes exactly one state: the one that decrypted,
// which becomes the current one (or already was). Repair therefore puts back
// every other state as it was before, matched by session version and the
// sender base key (which names a state), and drops the duplicates a promotion
// leaves behind (DecryptWithRecord removes the promoted state from a copy of
// the slice header only, so the record's last previous state appears twice).
// Written here because the pinned libsignal cannot be changed and no other
// library does this; whatsmeow is used unmodified.
package sessionrepair

import (
	"bytes"
	"context"
	"fmt"
	"reflect"

	"go.mau.fi/libsignal/state/record"
	"go.mau.fi/whatsmeow/store"
)

type decryptingKey struct{}

// Decrypting marks ctx as a decryption's: PutSession under it repairs.
func Decrypting(ctx context.Context) context.Context {
	return context.WithValue(ctx, decryptingKey{}, true)
}

// InDecryption tells whether ctx was marked by Decrypting.
func InDecryption(ctx context.Context) bool {
	v, _ := ctx.Value(decryptingKey{}).(bool)
	return v
}

// Repair returns after (a serialized session record written by a successful
// decryption) with every previous state that before (the record the
// decryption loaded) also had put back as it was in before, and duplicate
// states dropped. changed tells whether anything differed.
func Repair(before, after []byte) (repaired []byte, changed bool, err error) {
	ser := store.SignalProtobufSerializer.Session
	old, err := ser.Deserialize(before)
	if err != nil {
		return nil, false, fmt.Errorf("sessionrepair: the stored record: %w", err)
	}
	cur, err := ser.Deserialize(after)
	if err != nil {
		return nil, false, fmt.Errorf("sessionrepair: the new record: %w", err)
	}
	if cur.SessionState == nil {
		return after, false, nil
	}
	was := make(map[string]*record.StateStructure, len(old.PreviousStates)+1)
	for _, st := range append([]*record.StateStructure{old.SessionState}, old.PreviousStates...) {
		if k := stateKey(st); k != "" {
			if _, dup := was[k]; !dup {
				was[k] = st
			}
		}
	}
	seen := map[string]bool{stateKey(cur.SessionState): true}
	previous := make([]*record.StateStructure, 0, len(cur.PreviousStates))
	for _, st := range cur.PreviousStates {
		k := stateKey(st)
		if k != "" {
			if seen[k] {
				changed = true // a duplicate (or the current state again)
				continue
			}
			seen[k] = true
			if o, ok := was[k]; ok && !reflect.DeepEqual(o, st) {
				st, changed = o, true
			}
		}
		previous = append(previous, st)
	}
	if !changed {
		return after, false, nil
	}
	cur.PreviousStates = previous
	return ser.Serialize(cur), true, nil
}

// stateKey names a state by its version and sender base key; "" for an
// empty state (a fresh record's placeholder), which is left alone.
func stateKey(st *record.StateStructure) string {
	if st == nil || len(st.SenderBaseKey) == 0 {
		return ""
	}
	return fmt.Sprintf("%d:%x", st.SessionVersion, st.SenderBaseKey)
}

// noPrevious ends a session record with no previous states as libsignal's
// JSON serializer writes it (json.Marshal of record.SessionStructure: the
// fields in declaration order, PreviousStates last, an empty slice as []).
var noPrevious = [][]byte{[]byte(`"PreviousStates":[]}`), []byte(`"PreviousStates":null}`)}

// HasPreviousStates tells whether a serialized session record may hold
// previous states; false only when it certainly holds none. Repair only ever
// changes a record's previous states (it puts back or drops entries of
// them), so a decryption that stored a record without any has nothing to
// repair, and the stored record need not be read nor either one decoded:
// the common case, a contact with one session state. The test is on the
// bytes: the root object's last member, right before its closing brace,
// must be an empty PreviousStates (in valid JSON the last byte closes the
// root); anything else, another writer's layout included, takes the full
// Repair.
func HasPreviousStates(rec []byte) bool {
	if len(rec) == 0 || rec[0] != '{' {
		return true
	}
	for _, tail := range noPrevious {
		if bytes.HasSuffix(rec, tail) && len(rec) > len(tail) {
			switch rec[len(rec)-len(tail)-1] {
			case ',', '{':
				return bytes.Count(rec, []byte(`"PreviousStates"`)) != 1
			}
		}
	}
	return true
}
