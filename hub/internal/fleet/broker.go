package fleet

import (
	"sync"
	"sync/atomic"
	"time"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// Event is one change in the fleet. One Event is published to every
// watcher: it and what it points to are never modified, so whatever is
// derived from it (such as its encoding) can be shared by all of them.
type Event struct {
	Type    gpumonv1.WatchEventType
	Machine *Machine
	State   *State
	// Views keeps what watchers built from a published event, by view, so
	// that watchers of the same view share one answer (nil for events not
	// published, such as a watcher's initial ones).
	Views *sync.Map
}

// Broker fans events out. Watchers (Watch) get a coalescing queue: the
// latest event per machine, so one that reads slowly gets the newest state,
// not a growing backlog, and what it holds is bounded by the fleet's size.
// Internal followers (Subscribe) get a channel and lose events when it is
// full. Publishing never blocks.
type Broker struct {
	mu        sync.RWMutex
	subs      map[*Subscription]struct{}
	queues    map[*Queue]struct{}
	dropped   atomic.Uint64
	coalesced atomic.Uint64
	now       func() time.Time
}

// Subscription is an internal follower.
type Subscription struct {
	C      chan Event
	broker *Broker
}

// NewBroker returns a broker with no watchers.
func NewBroker() *Broker {
	return &Broker{subs: map[*Subscription]struct{}{}, queues: map[*Queue]struct{}{}, now: time.Now}
}

// Subscribe adds a follower with room for buffer events.
func (b *Broker) Subscribe(buffer int) *Subscription {
	s := &Subscription{C: make(chan Event, buffer), broker: b}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

// Close removes the follower.
func (s *Subscription) Close() {
	s.broker.mu.Lock()
	delete(s.broker.subs, s)
	s.broker.mu.Unlock()
}

// Watch adds a watcher.
func (b *Broker) Watch() *Queue {
	q := &Queue{broker: b, slots: map[*Machine]*slot{}, ready: make(chan struct{}, 1)}
	b.mu.Lock()
	b.queues[q] = struct{}{}
	b.mu.Unlock()
	return q
}

// Publish delivers e to every watcher and follower.
func (b *Broker) Publish(e Event) {
	e.Views = new(sync.Map)
	shared := &e
	now := b.now()
	b.mu.RLock()
	defer b.mu.RUnlock()
	for q := range b.queues {
		q.push(shared, now)
	}
	for s := range b.subs {
		select {
		case s.C <- e:
		default:
			b.dropped.Add(1)
		}
	}
}

// Subscribers counts the watchers.
func (b *Broker) Subscribers() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.queues)
}

// Dropped counts events lost to full followers.
func (b *Broker) Dropped() uint64 { return b.dropped.Load() }

// Coalesced counts watcher events replaced by a newer event of the same
// machine before the watcher read them.
func (b *Broker) Coalesced() uint64 { return b.coalesced.Load() }

// Queue holds one watcher's undelivered events: per machine the latest, in
// the order the machines first had one pending.
type Queue struct {
	broker *Broker
	ready  chan struct{}

	mu    sync.Mutex
	slots map[*Machine]*slot
	order []*Machine // machines with a pending event, oldest first
	head  int        // order[:head] are delivered
}

type slot struct {
	ev    *Event
	since time.Time // when the machine's oldest undelivered event came
}

func (q *Queue) push(e *Event, now time.Time) {
	q.mu.Lock()
	if s := q.slots[e.Machine]; s != nil {
		s.ev = e // the watcher gets the newest; it is as late as before
		q.broker.coalesced.Add(1)
	} else {
		q.slots[e.Machine] = &slot{ev: e, since: now}
		q.order = append(q.order, e.Machine)
	}
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// Ready has a value when events may be pending.
func (q *Queue) Ready() <-chan struct{} { return q.ready }

// Pop takes the pending event of the machine that has waited longest.
func (q *Queue) Pop() (*Event, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.order) {
		return nil, false
	}
	m := q.order[q.head]
	q.order[q.head] = nil
	q.head++
	if q.head == len(q.order) { // reuse the array once drained
		q.order, q.head = q.order[:0], 0
	} else if q.head > 1024 && q.head*2 > len(q.order) {
		q.order, q.head = append(q.order[:0], q.order[q.head:]...), 0
	}
	s := q.slots[m]
	delete(q.slots, m)
	return s.ev, true
}

// Lag is how long the oldest undelivered event has waited (0: none).
func (q *Queue) Lag(now time.Time) time.Duration {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.order) {
		return 0
	}
	return now.Sub(q.slots[q.order[q.head]].since)
}

// Len is the number of machines with an undelivered event.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.order) - q.head
}

// Close removes the watcher.
func (q *Queue) Close() {
	q.broker.mu.Lock()
	delete(q.broker.queues, q)
	q.broker.mu.Unlock()
}
