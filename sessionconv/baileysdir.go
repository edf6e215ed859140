//go:build !js

package sessionconv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// ReadBaileysDir reads a useMultiFileAuthState folder. A file that is not
// of a known type is an error (it is not such a folder, or of a newer
// Baileys).
func ReadBaileysDir(dir string) (*BaileysState, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBaileys, err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if e.IsDir() {
			return nil, fmt.Errorf("%w: %s: not a file of useMultiFileAuthState", ErrBaileys, filepath.Join(dir, e.Name()))
		}
		if files[e.Name()], err = os.ReadFile(filepath.Join(dir, e.Name())); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBaileys, err)
		}
	}
	st, err := BaileysFiles(files)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, dir)
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
	files, err := st.Files()
	if err != nil {
		return err
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(tmp, name), body, 0o600); err != nil {
			return err
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
