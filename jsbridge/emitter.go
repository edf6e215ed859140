//go:build js

package jsbridge

import (
	"sync"
	"syscall/js"
)

// Emitter keeps JS listeners by event name and calls them from Go. A
// listener that throws does not stop the others: the exception is handed to
// OnListenerError (when set) and otherwise dropped.
type Emitter struct {
	mu        sync.Mutex
	listeners map[string][]listener
	nextID    int
	// OnListenerError sees exceptions thrown by listeners.
	OnListenerError func(event string, err error)
}

type listener struct {
	id   int
	fn   js.Value
	once bool
}

// NewEmitter returns an emitter with no listeners.
func NewEmitter() *Emitter {
	return &Emitter{listeners: make(map[string][]listener)}
}

// On adds fn as a listener of event.
func (e *Emitter) On(event string, fn js.Value) { e.add(event, fn, false) }

// Once adds fn as a listener called at most once.
func (e *Emitter) Once(event string, fn js.Value) { e.add(event, fn, true) }

func (e *Emitter) add(event string, fn js.Value, once bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.nextID++
	e.listeners[event] = append(e.listeners[event], listener{id: e.nextID, fn: fn, once: once})
}

// Off removes every registration of fn for event.
func (e *Emitter) Off(event string, fn js.Value) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ls := e.listeners[event][:0:0]
	for _, l := range e.listeners[event] {
		if !l.fn.Equal(fn) {
			ls = append(ls, l)
		}
	}
	e.listeners[event] = ls
}

// RemoveAll drops every listener.
func (e *Emitter) RemoveAll() {
	e.mu.Lock()
	defer e.mu.Unlock()
	clear(e.listeners)
}

// ListenerCount reports how many listeners event has.
func (e *Emitter) ListenerCount(event string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.listeners[event])
}

// Emit calls event's listeners in order with payload (converted with
// ValueOf). Listeners run synchronously on the calling goroutine; Emit is
// called outside any lock so listeners may call back into the emitter.
func (e *Emitter) Emit(event string, payload any) {
	e.mu.Lock()
	ls := append([]listener(nil), e.listeners[event]...)
	if len(ls) > 0 {
		keep := e.listeners[event][:0:0]
		for _, l := range e.listeners[event] {
			if !l.once {
				keep = append(keep, l)
			}
		}
		e.listeners[event] = keep
	}
	e.mu.Unlock()
	if len(ls) == 0 {
		return
	}
	arg := ValueOf(payload)
	for _, l := range ls {
		if err := invokeSafely(func() { l.fn.Invoke(arg) }); err != nil && e.OnListenerError != nil {
			e.OnListenerError(event, err)
		}
	}
}

// Bind adds on, once and off methods to obj, backed by e.
func (e *Emitter) Bind(obj js.Value) {
	reg := func(name string, f func(string, js.Value)) {
		obj.Set(name, SyncFunc(name, func(args []js.Value) (any, error) {
			if len(args) < 2 || args[0].Type() != js.TypeString || !IsFunction(args[1]) {
				return nil, Errorf(CodeInvalidOption, "%s(event, listener): event must be a string and listener a function", name)
			}
			f(args[0].String(), args[1])
			return obj, nil
		}))
	}
	reg("on", e.On)
	reg("once", e.Once)
	reg("off", e.Off)
}
