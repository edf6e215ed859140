package serial

import (
	"sync"
	"testing"
	"time"
)

// Items pushed from many goroutines are handled one at a time, each once,
// and those of one pusher in its order.
func TestQueueOneAtATimeInOrder(t *testing.T) {
	var q Queue[[2]int]
	var mu sync.Mutex
	var busy bool
	last := map[int]int{}
	var wg sync.WaitGroup
	const pushers, items = 4, 200
	wg.Add(pushers * items)
	run := func(v [2]int) {
		defer wg.Done()
		mu.Lock()
		if busy {
			t.Error("two items handled at once")
		}
		busy = true
		if prev, ok := last[v[0]]; ok && prev != v[1]-1 {
			t.Errorf("pusher %d: item %d after %d", v[0], v[1], prev)
		}
		last[v[0]] = v[1]
		mu.Unlock()
		time.Sleep(time.Microsecond)
		mu.Lock()
		busy = false
		mu.Unlock()
	}
	for p := 0; p < pushers; p++ {
		go func(p int) {
			for i := 0; i < items; i++ {
				q.Push([2]int{p, i}, run)
			}
		}(p)
	}
	wg.Wait()
	for p := 0; p < pushers; p++ {
		if last[p] != items-1 {
			t.Fatalf("pusher %d: last item %d, want %d", p, last[p], items-1)
		}
	}
}

// Busy is true from a Push until the last item was run.
func TestQueueBusyUntilTheLastItemRan(t *testing.T) {
	var q Queue[int]
	if q.Busy() {
		t.Fatal("a new queue is busy")
	}
	release := make(chan struct{})
	ran := make(chan int, 2)
	run := func(v int) { <-release; ran <- v }
	q.Push(1, run)
	q.Push(2, run)
	if !q.Busy() {
		t.Fatal("not busy with two items pending")
	}
	release <- struct{}{}
	<-ran
	if !q.Busy() {
		t.Fatal("not busy with one item left")
	}
	release <- struct{}{}
	<-ran
	for end := time.Now().Add(time.Second); q.Busy(); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("still busy after the last item ran")
		}
	}
}
