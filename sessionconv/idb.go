package sessionconv

import (
	"context"
	"fmt"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"

	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/kv"
	"github.com/wasmeow/wasmeow/kv/memkv"
	"github.com/wasmeow/wasmeow/wasm/snapshot"
)

// idbRaw is rawWriter for idbstore.
type idbRaw struct{ s *idbstore.Store }

func (w idbRaw) putPreKeys(ctx context.Context, _ string, rows []idbstore.PreKeyRow) error {
	return w.s.ImportPreKeys(ctx, rows)
}

func (w idbRaw) putBufferedEvents(ctx context.Context, _ string, rows []idbstore.BufferedEventRow) error {
	return w.s.ImportBufferedEvents(ctx, rows)
}

// keepOpen lets Capture read the backend after the container's writes are
// flushed; the container's Close would close it.
type keepOpen struct{ kv.Backend }

func (keepOpen) Close() error { return nil }

// OpenSnapshot restores blob into a new in-memory backend and opens the
// idbstore container on it, as the page does with an imported session.
func OpenSnapshot(ctx context.Context, blob []byte) (*idbstore.Container, error) {
	snap, err := snapshot.DecodeSession(blob)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSnapshot, err)
	}
	b := memkv.New()
	if err := snap.Restore(ctx, b); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSnapshot, err)
	}
	c, err := idbstore.New(ctx, b, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSnapshot, err)
	}
	return c, nil
}

// readSnapshot returns the rows of device jid (the only one when empty).
func readSnapshot(ctx context.Context, blob []byte, jid types.JID) (*idbstore.DeviceRows, error) {
	c, err := OpenSnapshot(ctx, blob)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	all, err := c.GetAllDevices(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSnapshot, err)
	}
	ids := make([]types.JID, len(all))
	for i, d := range all {
		ids[i] = *d.ID
	}
	if jid, err = chooseDevice(ids, jid); err != nil {
		return nil, err
	}
	rows, err := c.ExportRows(ctx, jid)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSnapshot, err)
	}
	return rows, nil
}

// writeSnapshot writes rows into a new idbstore on memkv through the store
// interfaces and captures it.
func writeSnapshot(ctx context.Context, rows *idbstore.DeviceRows, clientID string) ([]byte, error) {
	b := memkv.New()
	c, err := idbstore.New(ctx, keepOpen{b}, nil)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	rawFor := func(d *store.Device) rawWriter { return idbRaw{d.PreKeys.(*idbstore.Store)} }
	if _, err := writeRows(ctx, c, rows, rawFor); err != nil {
		return nil, err
	}
	if err := c.Flush(ctx); err != nil {
		return nil, err
	}
	snap, err := snapshot.Capture(ctx, b, clientID, idbstore.DumpTables)
	if err != nil {
		return nil, err
	}
	return snap.Encode()
}
