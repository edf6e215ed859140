package core

import (
	"context"
	"errors"
	"sync"

	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/serial"
)

// The page is given a message once its decryption (session update and
// buffered plaintext) is durable. Waiting for that inside whatsmeow's event
// handler held its one node-handling goroutine for a whole IndexedDB commit
// per message, so messages were decrypted and committed one at a time. The
// page queue takes the wait off that goroutine and keeps every promise:
//   - message events leave in order, each once the writes queued before it
//     was handed over are durable (idbstore's FlushTo), so one group commit
//     covers every message decrypted meanwhile;
//   - whatsmeow clears a message's buffered plaintext right after its event
//     handler returns; that clear waits in the queue behind the events before
//     it (a clear before the page had the message would make a redelivery
//     "already processed", and the message would be lost);
//   - the write barrier drains the queue before its commit, so no ack or
//     receipt leaves before the page was given what came before it.
//
// Other events join the queue while it is busy, so they keep their order
// with the messages; when it is idle they leave at once, as before.
type pageQueue struct {
	container *idbstore.Container
	onFailure func(error)
	items     serial.Queue[pageItem]
	ctx       context.Context // ended by stop: waits for commits end with it
	stop      context.CancelFunc

	mu     sync.Mutex
	emit   func(Event)
	pushed uint64 // items ever queued
	done   uint64 // items handled
	failed bool   // a durable wait failed: the store is sticky-failed
	moved  chan struct{}
	// emitting serialises the worker's emits with the direct ones.
	emitting sync.Mutex
}

// pageItem is an event (durable: once the writes queued before mark are
// stored) or a deferred plaintext clear.
type pageItem struct {
	event   Event
	durable bool
	mark    uint64
	clear   func() error
}

func newPageQueue(c *idbstore.Container, onFailure func(error)) *pageQueue {
	q := &pageQueue{container: c, onFailure: onFailure, emit: func(Event) {}, moved: make(chan struct{})}
	q.ctx, q.stop = context.WithCancel(context.Background())
	return q
}

// setEmit names where events go (the client's listener).
func (q *pageQueue) setEmit(emit func(Event)) {
	q.mu.Lock()
	q.emit = emit
	q.mu.Unlock()
}

// event gives e to the page: at once when nothing waits, else in turn.
func (q *pageQueue) event(e Event) {
	if q.items.Busy() {
		q.push(pageItem{event: e})
		return
	}
	q.mu.Lock()
	emit := q.emit
	q.mu.Unlock()
	q.emitting.Lock()
	defer q.emitting.Unlock()
	emit(e)
}

// durableEvent gives e to the page once every write queued so far is stored.
func (q *pageQueue) durableEvent(e Event) {
	q.push(pageItem{event: e, durable: true, mark: q.container.FlushMark()})
}

// clearAfter runs clear once every event queued before it left (at once when
// none waits) and reports its error then. A deferred clear's error reaches
// nobody: the store it writes to is what failed, and the barrier says so.
func (q *pageQueue) clearAfter(clear func() error) error {
	if !q.items.Busy() {
		return clear()
	}
	q.push(pageItem{clear: clear})
	return nil
}

func (q *pageQueue) push(it pageItem) {
	q.mu.Lock()
	q.pushed++
	q.mu.Unlock()
	q.items.Push(it, q.run)
}

func (q *pageQueue) run(it pageItem) {
	q.mu.Lock()
	emit, failed := q.emit, q.failed
	q.mu.Unlock()
	q.handle(it, emit, failed)
	q.mu.Lock()
	q.done++
	close(q.moved)
	q.moved = make(chan struct{})
	q.mu.Unlock()
}

func (q *pageQueue) handle(it pageItem, emit func(Event), failed bool) {
	defer func() { _ = recover() }() // a listener's panic must not stop the queue
	switch {
	case it.clear != nil:
		if !failed {
			_ = it.clear()
		}
	case it.durable:
		if failed {
			return
		}
		if err := q.container.FlushTo(q.ctx, it.mark); err != nil {
			q.mu.Lock()
			q.failed = true
			q.mu.Unlock()
			// Not given to the page; whatsmeow's ack waits at the barrier,
			// which fails on the same sticky error, so the server keeps the
			// message and delivers it again once the session can store. A
			// session closing (stop) drops what still waits, as a closed
			// store does: its events after that still leave.
			if !errors.Is(err, idbstore.ErrClosed) && q.ctx.Err() == nil {
				q.onFailure(err)
			}
			return
		}
		fallthrough
	default:
		q.emitting.Lock()
		defer q.emitting.Unlock()
		emit(it.event)
	}
}

// drain waits until every item queued before the call was handled.
func (q *pageQueue) drain(ctx context.Context) error {
	q.mu.Lock()
	target := q.pushed
	for q.done < target {
		ch := q.moved
		q.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		q.mu.Lock()
	}
	q.mu.Unlock()
	return nil
}
