package bufpool

import (
	"testing"

	"google.golang.org/grpc/mem"
)

var _ mem.BufferPool = (*Pool)(nil)

func TestGet(t *testing.T) {
	var p Pool
	for _, tt := range []struct{ n, cap int }{
		{0, 256}, {1, 256}, {256, 256}, {257, 512}, {100 << 10, 128 << 10}, {1 << 20, 1 << 20}, {16 << 20, 16 << 20}, {16<<20 + 1, 16<<20 + 1},
	} {
		b := p.Get(tt.n)
		if len(*b) != tt.n || cap(*b) != tt.cap {
			t.Errorf("Get(%d): len %d cap %d, want len %d cap %d", tt.n, len(*b), cap(*b), tt.n, tt.cap)
		}
		p.Put(b)
	}
}

// TestReuse: a buffer put back is handed out again for any length of its
// class, and one that is not the pool's size is not kept.
func TestReuse(t *testing.T) {
	var p Pool
	b := p.Get(100 << 10)
	(*b)[0] = 7
	p.Put(b)
	got := p.Get(70 << 10)
	if len(*got) != 70<<10 || cap(*got) != 128<<10 {
		t.Fatalf("len %d cap %d", len(*got), cap(*got))
	}
	if &(*got)[0] != &(*b)[0] {
		t.Skip("sync.Pool dropped the buffer (a GC ran); nothing to check")
	}
	odd := make([]byte, 1000)
	p.Put(&odd) // not a power of two: dropped
	if c := cap(*p.Get(1000)); c != 1024 {
		t.Errorf("cap %d", c)
	}
}

// BenchmarkGetPut: a 100 KB snapshot's buffer from grpc-go's default pool
// and from this one.
func BenchmarkGetPut(b *testing.B) {
	for _, tt := range []struct {
		name string
		pool mem.BufferPool
	}{{"grpc-default", mem.DefaultBufferPool()}, {"bufpool", &Pool{}}} {
		b.Run(tt.name, func(b *testing.B) {
			for b.Loop() {
				buf := tt.pool.Get(100 << 10)
				tt.pool.Put(buf)
			}
		})
	}
}
