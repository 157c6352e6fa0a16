package fleet

import (
	"sync"
	"sync/atomic"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// Event is one change in the fleet.
type Event struct {
	Type    gpumonv1.WatchEventType
	Machine *Machine
	State   *State
}

// Broker fans events out to watchers. A watcher that does not keep up loses
// events (each event carries a machine's full state, so the next one makes up
// for it); publishing never blocks.
type Broker struct {
	mu      sync.RWMutex
	subs    map[*Subscription]struct{}
	dropped atomic.Uint64
}

// Subscription is one watcher.
type Subscription struct {
	C      chan Event
	broker *Broker
}

// NewBroker returns a broker with no watchers.
func NewBroker() *Broker { return &Broker{subs: map[*Subscription]struct{}{}} }

// Subscribe adds a watcher with room for buffer events.
func (b *Broker) Subscribe(buffer int) *Subscription {
	s := &Subscription{C: make(chan Event, buffer), broker: b}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

// Close removes the watcher.
func (s *Subscription) Close() {
	s.broker.mu.Lock()
	delete(s.broker.subs, s)
	s.broker.mu.Unlock()
}

// Publish delivers e to every watcher with room for it.
func (b *Broker) Publish(e Event) {
	b.mu.RLock()
	defer b.mu.RUnlock()
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
	return len(b.subs)
}

// Dropped counts events lost to slow watchers.
func (b *Broker) Dropped() uint64 { return b.dropped.Load() }
