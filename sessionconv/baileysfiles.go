package sessionconv

import (
	"encoding/json"
	"fmt"
	"strings"
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
// reverse of fixFileName where the id allows it: only app-state sync key
// ids (base64) hold a '/', only sender key ids a ':' ("group::user::device"),
// and group JIDs may hold a '-'.
func keyOfFile(base string) (typ, id string, ok bool) {
	for _, t := range BaileysTypes {
		rest, found := strings.CutPrefix(base, t+"-")
		if !found {
			continue
		}
		if t == bSyncKey { // base64 ids: the only ones with a '/' (tctoken's "__index" is written as is)
			rest = strings.ReplaceAll(rest, "__", "/")
		}
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

// BaileysFiles reads the files of a useMultiFileAuthState folder, by name.
// A file that is not of a known type is an error (it is not such a folder,
// or of a newer Baileys).
func BaileysFiles(files map[string][]byte) (*BaileysState, error) {
	st := &BaileysState{Keys: map[string]map[string]json.RawMessage{}}
	for name, raw := range files {
		if !strings.HasSuffix(name, ".json") || strings.ContainsAny(name, "/\\") {
			return nil, fmt.Errorf("%w: %s: not a file of useMultiFileAuthState", ErrBaileys, name)
		}
		if !json.Valid(raw) {
			return nil, fmt.Errorf("%w: %s is not JSON", ErrBaileys, name)
		}
		if name == credsFile {
			if err := json.Unmarshal(raw, &st.Creds); err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrBaileys, name, err)
			}
			continue
		}
		typ, id, ok := keyOfFile(strings.TrimSuffix(name, ".json"))
		if !ok {
			return nil, fmt.Errorf("%w: %s: not a key file of useMultiFileAuthState", ErrBaileys, name)
		}
		if st.Keys[typ] == nil {
			st.Keys[typ] = map[string]json.RawMessage{}
		}
		st.Keys[typ][id] = raw
	}
	if st.Creds == nil {
		return nil, fmt.Errorf("%w: no %s", ErrBaileys, credsFile)
	}
	return st, nil
}

// Files is st as the files useMultiFileAuthState writes, by name.
func (st *BaileysState) Files() (map[string][]byte, error) {
	files := map[string][]byte{}
	b, err := json.Marshal(st.Creds)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", credsFile, err)
	}
	files[credsFile] = b
	for typ, records := range st.Keys {
		for id, v := range records {
			files[fixFileName(typ+"-"+id+".json")] = v
		}
	}
	return files, nil
}
