//go:build js

package idbkv

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/wasmeow/wasmeow/kv"
)

// ErrDeleted is returned by calls on a backend whose database Delete removed.
// It matches kv.ErrClosed.
var ErrDeleted = fmt.Errorf("%w: the database was deleted", kv.ErrClosed)

// Delete deletes the database name and all its data. Our own open backends
// on it are closed first (their later calls fail with ErrDeleted); other
// connections (other tabs) are asked to close, and if one does not within
// BlockedTimeout (or before ctx ends), Delete returns ErrBlocked. Deleting
// a database that does not exist is no error.
func Delete(ctx context.Context, name string) (err error) {
	defer recoverTo(&err, "idbkv delete %q", name)
	g, err := getGlobals()
	if err != nil {
		return fmt.Errorf("idbkv delete %q: %w", name, err)
	}
	registryMu.Lock()
	var ours []*Backend
	for b := range registry[name] {
		ours = append(ours, b)
	}
	registryMu.Unlock()
	for _, b := range ours {
		b.shut(ErrDeleted)
	}
	req, err := g.factory.Call("deleteDatabase", name)
	if err != nil {
		return fmt.Errorf("idbkv delete %q: %w", name, jsCallError(err))
	}
	if err := awaitDBRequest(ctx, req, BlockedTimeout, nil, nil); err != nil {
		return fmt.Errorf("idbkv delete %q: %w", name, err)
	}
	return nil
}

// List returns the names of the databases of this origin that start with
// prefix, sorted (indexedDB.databases()).
func List(ctx context.Context, prefix string) (names []string, err error) {
	defer recoverTo(&err, "idbkv list %q", prefix)
	g, err := getGlobals()
	if err != nil {
		return nil, fmt.Errorf("idbkv list %q: %w", prefix, err)
	}
	p, err := g.factory.Call("databases")
	if err != nil {
		return nil, fmt.Errorf("idbkv list %q: indexedDB.databases(): %w", prefix, jsCallError(err))
	}
	infos, err := awaitPromise(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("idbkv list %q: indexedDB.databases(): %w", prefix, err)
	}
	n, err := infos.Length()
	if err != nil {
		return nil, fmt.Errorf("idbkv list %q: %w", prefix, err)
	}
	for i := 0; i < n; i++ {
		info, err := infos.Index(i)
		if err != nil {
			return nil, fmt.Errorf("idbkv list %q: %w", prefix, err)
		}
		if name := propString(info, "name"); strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names, nil
}
