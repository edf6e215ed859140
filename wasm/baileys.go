//go:build js

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"go.mau.fi/whatsmeow/types"

	"github.com/wasmeow/wasmeow/core"
	"github.com/wasmeow/wasmeow/jsbridge"
	"github.com/wasmeow/wasmeow/sessionconv"
)

// baileysInput is what wasmeow.js sends of importBaileysSession's state:
// {creds, keys} with byte strings in BufferJSON form, or {files} (the
// useMultiFileAuthState files by name, as text).
type baileysInput struct {
	Creds json.RawMessage                       `json:"creds"`
	Keys  map[string]map[string]json.RawMessage `json:"keys"`
	Files map[string]string                     `json:"files"`
}

// importBaileysSession converts a Baileys auth state into a snapshot and
// imports it as importSession does. It resolves with the JSON of
// {device, counts, dropped}.
func importBaileysSession(ctx context.Context, dbName, clientID, stateJSON string) (string, error) {
	const sig = "importBaileysSession"
	var in baileysInput
	if err := json.Unmarshal([]byte(stateJSON), &in); err != nil {
		return "", jsbridge.Errorf(jsbridge.CodeInvalidOption, "%s: state must be {creds, keys} or {files}: %v", sig, err)
	}
	var st *sessionconv.BaileysState
	switch {
	case in.Files != nil && (in.Creds != nil || in.Keys != nil):
		return "", jsbridge.Errorf(jsbridge.CodeInvalidOption, "%s: state has both files and creds/keys; give one", sig)
	case in.Files != nil:
		files := make(map[string][]byte, len(in.Files))
		for name, text := range in.Files {
			files[name] = []byte(text)
		}
		var err error
		if st, err = sessionconv.BaileysFiles(files); err != nil {
			return "", jsbridge.Errorf(core.CodeRestoreFailed, "%s %q: %w", sig, clientID, err)
		}
	default:
		st = &sessionconv.BaileysState{Keys: in.Keys}
		if in.Creds == nil || json.Unmarshal(in.Creds, &st.Creds) != nil {
			return "", jsbridge.Errorf(jsbridge.CodeInvalidOption, "%s: state.creds must be Baileys' AuthenticationCreds", sig)
		}
	}
	blob, jid, counts, dropped, err := sessionconv.BaileysToSnapshot(ctx, st, clientID)
	if err != nil {
		return "", jsbridge.Errorf(core.CodeRestoreFailed, "%s %q: %w", sig, clientID, err)
	}
	if err := importSession(ctx, dbName, clientID, blob); err != nil {
		return "", err
	}
	return report(jid, counts, dropped, nil)
}

// exportBaileys is the Baileys auth state of a session snapshot, as the
// JSON of {creds, keys, files, dropped}.
func exportBaileys(ctx context.Context, blob []byte) (string, error) {
	st, jid, counts, dropped, err := sessionconv.SnapshotToBaileys(ctx, blob, types.EmptyJID)
	if err != nil {
		if errors.Is(err, sessionconv.ErrSnapshot) {
			err = jsbridge.WithCode(core.CodeStoreCorrupt, err)
		}
		return "", fmt.Errorf("exportBaileysSession: %w", err)
	}
	files, err := st.Files()
	if err != nil {
		return "", fmt.Errorf("exportBaileysSession: %w", err)
	}
	text := make(map[string]string, len(files))
	for name, b := range files {
		text[name] = string(b)
	}
	return report(jid, counts, dropped, map[string]any{"creds": st.Creds, "keys": st.Keys, "files": text})
}

func report(jid types.JID, counts sessionconv.Counts, dropped []string, extra map[string]any) (string, error) {
	out := map[string]any{"device": jid.String(), "counts": counts, "dropped": dropped}
	if dropped == nil {
		out["dropped"] = []string{}
	}
	for k, v := range extra {
		out[k] = v
	}
	b, err := json.Marshal(out)
	return string(b), err
}
