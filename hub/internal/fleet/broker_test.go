package fleet

import (
	"testing"
	"time"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// TestWatchQueueCoalesces: a watcher that does not read holds one event per
// machine, the newest, however many are published; it reads them in the
// order the machines first waited, and its lag is the oldest wait.
func TestWatchQueueCoalesces(t *testing.T) {
	b := NewBroker()
	now := time.Unix(1000, 0)
	b.now = func() time.Time { return now }
	q := b.Watch()
	defer q.Close()
	ms := []*Machine{{Key: "a"}, {Key: "b"}, {Key: "c"}}
	var last [3]*State
	for i := range 3000 {
		st := &State{LastSeq: uint64(i)}
		last[i%3] = st
		b.Publish(Event{Type: gpumonv1.WatchEventType_WATCH_EVENT_TYPE_SAMPLE, Machine: ms[i%3], State: st})
		now = now.Add(10 * time.Millisecond)
	}
	if q.Len() != 3 {
		t.Fatalf("queue holds %d events after 3,000 for 3 machines, want 3", q.Len())
	}
	if lag := q.Lag(now); lag != 30*time.Second {
		t.Errorf("lag %s, want 30s (the first event of a)", lag)
	}
	if b.Coalesced() != 2997 {
		t.Errorf("coalesced %d", b.Coalesced())
	}
	for i, m := range ms {
		ev, ok := q.Pop()
		if !ok || ev.Machine != m || ev.State != last[i] {
			t.Fatalf("pop %d: %v %v, want the newest event of %s", i, ev, ok, m.Key)
		}
	}
	if _, ok := q.Pop(); ok || q.Lag(now) != 0 {
		t.Error("the queue is not empty after three pops")
	}
	// Every watcher gets the same event, not a copy of its own.
	q2 := b.Watch()
	defer q2.Close()
	b.Publish(Event{Machine: ms[0]})
	e1, _ := q.Pop()
	e2, _ := q2.Pop()
	if e1 != e2 {
		t.Error("two watchers got different copies of one event")
	}
	if b.Subscribers() != 2 {
		t.Errorf("%d watchers, want 2", b.Subscribers())
	}
}
