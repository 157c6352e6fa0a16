package stream

import (
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// keepDecoded is how many of the newest snapshots the buffer keeps as
// messages; older ones are kept encoded (a tenth of the memory). A
// connected agent's snapshot is acknowledged long before the next ones
// are taken, so in the common case no snapshot is ever encoded whole:
// only what the stream sends is.
const keepDecoded = 4

// buffer keeps un-acknowledged snapshots, oldest first. When full, the
// oldest snapshot is dropped and counted.
//
// Messages in the buffer are shared and never changed: push hands a
// snapshot over for good, and after hands out the buffer's own message,
// which the caller reads only (the send path cuts and encodes a copy,
// forSending).
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

// entry is one snapshot: its message (the newest keepDecoded) or its bytes.
type entry struct {
	seq  uint64
	msg  *gpumonv1.Snapshot
	data []byte
	sent time.Time // when last handed out; zero before
}

func newBuffer(capacity int) *buffer {
	return &buffer{cap: max(capacity, 1), notify: make(chan struct{}, 1)}
}

// push adds a snapshot. The buffer owns s from now on; nobody changes it.
func (b *buffer) push(s *gpumonv1.Snapshot) error {
	b.mu.Lock()
	if len(b.items) >= b.cap {
		n := len(b.items) - b.cap + 1
		clear(b.items[:n])
		b.items = append(b.items[:0], b.items[n:]...)
		b.dropped += uint64(n)
	}
	b.items = append(b.items, entry{seq: s.GetSeq(), msg: s})
	err := b.encodeOld()
	b.mu.Unlock()
	select {
	case b.notify <- struct{}{}:
	default:
	}
	return err
}

// encodeOld keeps all but the newest keepDecoded snapshots as bytes. An
// entry that cannot be encoded is dropped (and counted): it could not be
// sent either.
func (b *buffer) encodeOld() error {
	var err error
	for i := len(b.items) - keepDecoded - 1; i >= 0; i-- {
		e := &b.items[i]
		if e.msg == nil {
			break // older ones are encoded already
		}
		data, merr := proto.Marshal(e.msg)
		if merr != nil {
			b.items = append(b.items[:i], b.items[i+1:]...)
			b.dropped++
			err = fmt.Errorf("snapshot %d dropped: %w", e.seq, merr)
			continue
		}
		e.data, e.msg = data, nil
	}
	return err
}

// drop removes the snapshot seq (one that cannot be encoded) and counts it
// as dropped.
func (b *buffer) drop(seq uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range b.items {
		if b.items[i].seq == seq {
			b.items = append(b.items[:i], b.items[i+1:]...)
			b.dropped++
			return
		}
	}
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
// notes when it was handed out. The message is the buffer's (decoded
// afresh when it was kept as bytes): the caller must not change it.
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
