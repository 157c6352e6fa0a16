package service

import (
	"sync"
	"time"
)

// Default per-machine snapshot rate limit: a sustained rate well above any
// sane interval, and a burst that covers an agent replaying its whole
// buffer (10 minutes at 1 s) after an outage.
const (
	DefaultSnapshotRate  = 20
	DefaultSnapshotBurst = 1200
)

// bucket is a token bucket: rate tokens per second, at most burst.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(rate, burst float64, now time.Time) *bucket {
	return &bucket{rate: rate, burst: burst, tokens: burst, last: now}
}

// take spends one token; false when the bucket is empty.
func (b *bucket) take(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
