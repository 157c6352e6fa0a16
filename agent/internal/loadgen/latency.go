package loadgen

import (
	"slices"
	"sync"
	"time"
)

// maxLatencies bounds the samples a run keeps for its overall percentiles.
const maxLatencies = 1 << 20

// latencies collects ack latencies: all of them for the run (up to
// maxLatencies) and those since the last progress line.
type latencies struct {
	mu     sync.Mutex
	all    []time.Duration
	window []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	if len(l.all) < maxLatencies {
		l.all = append(l.all, d)
	}
	l.window = append(l.window, d)
	l.mu.Unlock()
}

// takeWindow returns the percentiles since the previous call and starts a
// new window.
func (l *latencies) takeWindow() (p50, p99 time.Duration, n int) {
	l.mu.Lock()
	w := l.window
	l.window = nil
	l.mu.Unlock()
	p50, p99 = percentiles(w)
	return p50, p99, len(w)
}

// overall returns the percentiles of the whole run.
func (l *latencies) overall() (p50, p99 time.Duration, n int) {
	l.mu.Lock()
	all := slices.Clone(l.all)
	l.mu.Unlock()
	p50, p99 = percentiles(all)
	return p50, p99, len(all)
}

func percentiles(d []time.Duration) (p50, p99 time.Duration) {
	if len(d) == 0 {
		return 0, 0
	}
	slices.Sort(d)
	return Percentile(d, 50), Percentile(d, 99)
}

// Percentile returns the p-th percentile (nearest rank) of sorted.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
