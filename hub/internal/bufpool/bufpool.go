// Package bufpool is the hub's pool of gRPC message buffers.
//
// grpc-go's default pool hands out buffers in a few size classes (up to
// 1 MiB) and clears every buffer it hands out, whole: each 100 KB snapshot
// cleared a 1 MiB buffer. This pool keeps a class per power of two, so a
// buffer is at most twice the message, and does not clear it: grpc-go
// reads a whole message into the length it asks for before anything reads
// the buffer, so nothing of an earlier message can show through.
package bufpool

import (
	"math/bits"
	"sync"
)

const (
	minShift = 8  // 256 B
	maxShift = 24 // 16 MiB; larger buffers are not pooled
)

// Pool implements grpc-go's mem.BufferPool.
type Pool struct {
	classes [maxShift + 1]sync.Pool
}

// Get returns a buffer of length n (its contents are not cleared).
func (p *Pool) Get(n int) *[]byte {
	shift := max(bits.Len(uint(max(n, 1)-1)), minShift)
	if shift > maxShift {
		b := make([]byte, n)
		return &b
	}
	if v, ok := p.classes[shift].Get().(*[]byte); ok {
		*v = (*v)[:n]
		return v
	}
	b := make([]byte, n, 1<<shift)
	return &b
}

// Put returns a buffer to the pool; buffers this pool did not make are
// dropped.
func (p *Pool) Put(b *[]byte) {
	c := cap(*b)
	if c < 1<<minShift || c > 1<<maxShift || c&(c-1) != 0 {
		return
	}
	p.classes[bits.Len(uint(c))-1].Put(b)
}
