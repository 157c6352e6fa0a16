package stream

import (
	"sync"

	"google.golang.org/protobuf/proto"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// buffer keeps un-acknowledged snapshots, oldest first, as encoded bytes
// (a tenth of the memory of the decoded messages). When full, the oldest
// snapshot is dropped and counted.
type buffer struct {
	mu      sync.Mutex
	cap     int
	items   []entry
	dropped uint64
	notify  chan struct{}
}

type entry struct {
	seq  uint64
	data []byte
}

func newBuffer(capacity int) *buffer {
	return &buffer{cap: max(capacity, 1), notify: make(chan struct{}, 1)}
}

// push adds a snapshot.
func (b *buffer) push(s *gpumonv1.Snapshot) error {
	data, err := proto.Marshal(s)
	if err != nil {
		return err
	}
	b.mu.Lock()
	if len(b.items) >= b.cap {
		n := len(b.items) - b.cap + 1
		b.items = append(b.items[:0], b.items[n:]...)
		b.dropped += uint64(n)
	}
	b.items = append(b.items, entry{seq: s.GetSeq(), data: data})
	b.mu.Unlock()
	select {
	case b.notify <- struct{}{}:
	default:
	}
	return nil
}

// ack drops every snapshot up to and including seq.
func (b *buffer) ack(seq uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := 0
	for i < len(b.items) && b.items[i].seq <= seq {
		i++
	}
	if i > 0 {
		b.items = append(b.items[:0], b.items[i:]...)
	}
}

// after returns the first snapshot with a sequence number above seq.
func (b *buffer) after(seq uint64) (*gpumonv1.Snapshot, bool) {
	b.mu.Lock()
	var data []byte
	for _, e := range b.items {
		if e.seq > seq {
			data = e.data
			break
		}
	}
	b.mu.Unlock()
	if data == nil {
		return nil, false
	}
	s := new(gpumonv1.Snapshot)
	if proto.Unmarshal(data, s) != nil {
		return nil, false
	}
	return s, true
}

// stats returns how many snapshots wait and how many were dropped.
func (b *buffer) stats() (pending int, dropped uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.items), b.dropped
}
