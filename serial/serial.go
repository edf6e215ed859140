// Package serial runs work one item at a time, in the order it was pushed,
// on a goroutine that exists only while there is work. The client's
// history-sync downloads and fakewa's simulated phones (one stanza after
// another) both need exactly this; a channel with a long-lived worker would
// need a lifetime and a stop of its own.
package serial

import "sync"

// Queue is a FIFO of items handled one at a time. The zero value is ready.
type Queue[T any] struct {
	mu      sync.Mutex
	pending []T
	running bool
}

// Push adds v. If no worker runs, it starts one that calls run for each
// item in order until the queue is empty. run is called with no lock held.
func (q *Queue[T]) Push(v T, run func(T)) {
	q.mu.Lock()
	q.pending = append(q.pending, v)
	start := !q.running
	q.running = true
	q.mu.Unlock()
	if start {
		go q.drain(run)
	}
}

func (q *Queue[T]) drain(run func(T)) {
	for {
		q.mu.Lock()
		if len(q.pending) == 0 {
			q.running = false
			q.mu.Unlock()
			return
		}
		next := q.pending[0]
		var zero T
		q.pending[0] = zero // let the handled item be collected
		q.pending = q.pending[1:]
		q.mu.Unlock()
		run(next)
	}
}

// Busy reports whether items are pending or one is being run: from a Push
// until the worker finished the last item.
func (q *Queue[T]) Busy() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.running
}
