//go:build !js

package sessionconv

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// The files of Baileys' useMultiFileAuthState (its
// src/Utils/use-multi-file-auth-state.ts): creds.json, and one
// "<type>-<id>.json" per key, the file name with '/' written "__" and ':'
// written '-', each holding the value's JSON with Buffers in BufferJSON's
// {"type":"Buffer","data":"<base64>"} form.

const credsFile = "creds.json"

// fixFileName is Baileys' fixFileName.
func fixFileName(name string) string {
	return strings.ReplaceAll(strings.ReplaceAll(name, "/", "__"), ":", "-")
}

// keyOfFile is the type and id of a key file name (without .json), the
// reverse of fixFileName where the id allows it: only sender key ids hold a
// ':' ("group::user::device"), and group JIDs may hold a '-'.
func keyOfFile(base string) (typ, id string, ok bool) {
	for _, t := range BaileysTypes {
		rest, found := strings.CutPrefix(base, t+"-")
		if !found {
			continue
		}
		rest = strings.ReplaceAll(rest, "__", "/")
		if t == bSenderKey {
			i := strings.LastIndex(rest, "--")
			if i < 0 {
				return "", "", false
			}
			j := strings.LastIndex(rest[:i], "--")
			if j < 0 {
				return "", "", false
			}
			rest = rest[:j] + "::" + rest[j+2:i] + "::" + rest[i+2:]
		}
		return t, rest, true
	}
	return "", "", false
}

// ReadBaileysDir reads a useMultiFileAuthState folder. A file that is not
// of a known type is an error (it is not such a folder, or of a newer
// Baileys).
func ReadBaileysDir(dir string) (*BaileysState, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBaileys, err)
	}
	st := &BaileysState{Keys: map[string]map[string]json.RawMessage{}}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".json") {
			return nil, fmt.Errorf("%w: %s: not a file of useMultiFileAuthState", ErrBaileys, filepath.Join(dir, name))
		}
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBaileys, err)
		}
		if !json.Valid(raw) {
			return nil, fmt.Errorf("%w: %s is not JSON", ErrBaileys, filepath.Join(dir, name))
		}
		if name == credsFile {
			if err := json.Unmarshal(raw, &st.Creds); err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrBaileys, name, err)
			}
			continue
		}
		typ, id, ok := keyOfFile(strings.TrimSuffix(name, ".json"))
		if !ok {
			return nil, fmt.Errorf("%w: %s: not a key file of useMultiFileAuthState", ErrBaileys, filepath.Join(dir, name))
		}
		if st.Keys[typ] == nil {
			st.Keys[typ] = map[string]json.RawMessage{}
		}
		st.Keys[typ][id] = raw
	}
	if st.Creds == nil {
		return nil, fmt.Errorf("%w: %s has no %s", ErrBaileys, dir, credsFile)
	}
	return st, nil
}

// WriteBaileysDir writes st as a useMultiFileAuthState folder at dir,
// which must not exist; it appears only once complete, files with mode
// 0600.
func WriteBaileysDir(st *BaileysState, dir string) error {
	if _, err := os.Lstat(dir); err == nil {
		return fmt.Errorf("%w: %s", ErrExists, dir)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	write := func(name string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return os.WriteFile(filepath.Join(tmp, name), b, 0o600)
	}
	if err := write(credsFile, st.Creds); err != nil {
		return err
	}
	for typ, records := range st.Keys {
		for id, v := range records {
			if err := write(fixFileName(typ+"-"+id+".json"), v); err != nil {
				return err
			}
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if errors.Is(err, os.ErrExist) || errors.Is(err, syscall.ENOTEMPTY) { // appeared meanwhile
			return fmt.Errorf("%w: %s", ErrExists, dir)
		}
		return err
	}
	return nil
}
