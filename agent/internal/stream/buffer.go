package stream

import (
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// buffer keeps un-acknowledged snapshots, oldest first, as encoded bytes
// (a tenth of the memory of the decoded messages). When full, the oldest
// snapshot is dropped and counted.
//
// A snapshot that has not been handed out yet also keeps its decoded
// message, so the common case — sent right after it was taken — costs no
// decoding; the message is let go once it is handed out.
type buffer struct {
	mu      sync.Mutex
	cap     int
	items   []entry
	dropped uint64
	notify  chan struct{}
	// onAck, when set, is told how long each acknowledged snapshot waited
	// between being handed out for sending and its acknowledgement.
	onAck func(time.Duration)
}

type entry struct {
	seq  uint64
	data []byte
	msg  *gpumonv1.Snapshot // until first handed out
	sent time.Time          // when last handed out; zero before
}

func newBuffer(capacity int) *buffer {
	return &buffer{cap: max(capacity, 1), notify: make(chan struct{}, 1)}
}

// push adds a snapshot. The buffer owns s from now on.
func (b *buffer) push(s *gpumonv1.Snapshot) error {
	data, err := proto.Marshal(s)
	if err != nil {
		return err
	}
	b.mu.Lock()
	if len(b.items) >= b.cap {
		n := len(b.items) - b.cap + 1
		clear(b.items[:n])
		b.items = append(b.items[:0], b.items[n:]...)
		b.dropped += uint64(n)
	}
	b.items = append(b.items, entry{seq: s.GetSeq(), data: data, msg: s})
	b.mu.Unlock()
	select {
	case b.notify <- struct{}{}:
	default:
	}
	return nil
}

// ack drops every snapshot up to and including seq.
func (b *buffer) ack(seq uint64) {
	var waits []time.Duration
	b.mu.Lock()
	now := time.Now()
	i := 0
	for i < len(b.items) && b.items[i].seq <= seq {
		if b.onAck != nil && !b.items[i].sent.IsZero() {
			waits = append(waits, now.Sub(b.items[i].sent))
		}
		i++
	}
	if i > 0 {
		clear(b.items[:i])
		b.items = append(b.items[:0], b.items[i:]...)
	}
	onAck := b.onAck
	b.mu.Unlock()
	for _, w := range waits {
		onAck(w)
	}
}

// after returns the first snapshot with a sequence number above seq and
// notes when it was handed out. The message is the caller's own: the
// buffer lets go of a message once it hands it out, and decodes its bytes
// afresh for every later call.
func (b *buffer) after(seq uint64) (*gpumonv1.Snapshot, bool) {
	b.mu.Lock()
	var (
		data []byte
		msg  *gpumonv1.Snapshot
	)
	for i := range b.items {
		e := &b.items[i]
		if e.seq > seq {
			data, msg = e.data, e.msg
			e.msg = nil
			e.sent = time.Now()
			break
		}
	}
	b.mu.Unlock()
	if msg != nil {
		return msg, true
	}
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
