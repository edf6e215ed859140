package tracetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
)

// Container is the device container API that both whatsmeow's sqlstore and
// wasmeow's idbstore offer.
type Container interface {
	NewDevice() *store.Device
	PutDevice(ctx context.Context, d *store.Device) error
	GetFirstDevice(ctx context.Context) (*store.Device, error)
	GetDevice(ctx context.Context, jid types.JID) (*store.Device, error)
	GetAllDevices(ctx context.Context) ([]*store.Device, error)
	DeleteDevice(ctx context.Context, d *store.Device) error
	Close() error
}

// Opener opens the store under test. It is called once at the start and once
// more after every "Reopen" call, and must then return a container on the
// same persisted data (what a page reload does).
type Opener func(ctx context.Context) (Container, error)

// Env is the state a trace runs in: the open container, the device of every
// slot, and the prekey material each slot was handed, so that a later read can
// be checked against it without recording random key bytes.
type Env struct {
	open    Opener
	c       Container
	slots   []*store.Device
	saved   []bool
	prekeys []map[uint32][32]byte
}

// NewEnv opens a container for a trace with the given number of slots.
func NewEnv(ctx context.Context, open Opener, slots int) (*Env, error) {
	c, err := open(ctx)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	e := &Env{open: open, c: c, slots: make([]*store.Device, slots), saved: make([]bool, slots), prekeys: make([]map[uint32][32]byte, slots)}
	for i := range e.prekeys {
		e.prekeys[i] = make(map[uint32][32]byte)
	}
	return e, nil
}

// Container returns the currently open container.
func (e *Env) Container() Container { return e.c }

// Close closes the container.
func (e *Env) Close() error { return e.c.Close() }

// errHarness marks a failure of the trace itself (bad arguments, a slot with
// no device) rather than a result of the store: it always counts as a
// difference.
var errHarness = errors.New("trace harness")

func (e *Env) device(dev int) (*store.Device, error) {
	if dev < 0 || dev >= len(e.slots) {
		return nil, fmt.Errorf("%w: slot %d out of range", errHarness, dev)
	}
	d := e.slots[dev]
	if d == nil || !e.saved[dev] || !d.Initialized {
		return nil, fmt.Errorf("%w: slot %d has no saved device", errHarness, dev)
	}
	return d, nil
}

// Exec runs one call and returns its canonical result as JSON and the error
// text of the store ("" when it succeeded). A non-nil error means the call
// could not be run at all.
func (e *Env) Exec(ctx context.Context, op string, dev int, args json.RawMessage) (res json.RawMessage, errText string, err error) {
	fn, ok := ops[op]
	if !ok {
		return nil, "", fmt.Errorf("%w: unknown method %q", errHarness, op)
	}
	out, callErr := e.call(ctx, fn, dev, args)
	if errors.Is(callErr, errHarness) {
		return nil, "", callErr
	}
	if callErr != nil {
		errText = callErr.Error()
	}
	res, err = json.Marshal(out)
	if err != nil {
		return nil, "", fmt.Errorf("%w: encode result of %s: %v", errHarness, op, err)
	}
	return res, errText, nil
}

// call turns a panic of the store into an error: a store must never panic on
// its input, and one that does fails the trace at this line.
func (e *Env) call(ctx context.Context, fn opFunc, dev int, args json.RawMessage) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("panic: %v", p)
		}
	}()
	return fn(ctx, e, dev, args)
}

// Methods lists every method a trace can hold, sorted.
func Methods() []string {
	out := make([]string, 0, len(ops))
	for name := range ops {
		out = append(out, name)
	}
	sortStrings(out)
	return out
}
