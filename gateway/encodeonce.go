package gateway

import (
	"sync"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// encodeOnce marshals each watch event once for every watcher that is sent
// the same message (the hub's service shares one answer per event and
// view): the encoding is kept by message, the newest up to max bytes.
// Other values go to the marshaler it wraps.
type encodeOnce struct {
	runtime.Marshaler
	max int

	mu      sync.Mutex
	entries map[*gpumonv1.WatchResponse]*encoded
	order   []*gpumonv1.WatchResponse
	size    int
}

type encoded struct {
	once sync.Once
	data []byte
	err  error
}

func newEncodeOnce(m runtime.Marshaler, maxBytes int) *encodeOnce {
	return &encodeOnce{Marshaler: m, max: maxBytes, entries: map[*gpumonv1.WatchResponse]*encoded{}}
}

// Marshal encodes a stream chunk ({"result": msg}) of a watch event once.
func (e *encodeOnce) Marshal(v any) ([]byte, error) {
	chunk, ok := v.(map[string]any)
	msg, isEvent := chunk["result"].(*gpumonv1.WatchResponse)
	if !ok || !isEvent || len(chunk) != 1 {
		return e.Marshaler.Marshal(v)
	}
	e.mu.Lock()
	ent := e.entries[msg]
	if ent == nil {
		ent = &encoded{}
		e.entries[msg] = ent
		e.order = append(e.order, msg)
	}
	e.mu.Unlock()
	ent.once.Do(func() {
		ent.data, ent.err = e.Marshaler.Marshal(v)
		e.mu.Lock()
		e.size += len(ent.data)
		e.evict()
		e.mu.Unlock()
	})
	return ent.data, ent.err
}

// evict drops the oldest encodings past max bytes; caller holds mu.
func (e *encodeOnce) evict() {
	for e.size > e.max && len(e.order) > 1 {
		old := e.order[0]
		e.order[0] = nil
		e.order = e.order[1:]
		if ent := e.entries[old]; ent != nil {
			e.size -= len(ent.data)
			delete(e.entries, old)
		}
	}
}

// Delimiter separates the messages of a stream.
func (e *encodeOnce) Delimiter() []byte { return []byte("\n") }
