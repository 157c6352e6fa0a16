package service

import (
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Default caps on watch streams (--max-watchers, --max-watchers-per-client).
const (
	DefaultMaxWatchers          = 500
	DefaultMaxWatchersPerClient = 32
)

// Watchers caps open watch streams in total and per client address (the
// HTTP client's, for streams through the hub's own REST gateway). The zero
// value takes the defaults; a nil *Watchers has no caps.
type Watchers struct {
	Max, PerClient int

	mu       sync.Mutex
	total    int
	byClient map[string]int
}

// admit counts a new stream from client, or refuses it (ResourceExhausted:
// 429 over REST). release uncounts it.
func (w *Watchers) admit(client string) (release func(), err error) {
	if w == nil {
		return func() {}, nil
	}
	max, per := w.Max, w.PerClient
	if max <= 0 {
		max = DefaultMaxWatchers
	}
	if per <= 0 {
		per = DefaultMaxWatchersPerClient
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.total >= max:
		return nil, status.Errorf(codes.ResourceExhausted, "the hub serves its maximum of %d watch streams (--max-watchers); try again later", max)
	case w.byClient[client] >= per:
		return nil, status.Errorf(codes.ResourceExhausted, "%s has %d watch streams open, the most one client may (--max-watchers-per-client); close one", client, per)
	}
	if w.byClient == nil {
		w.byClient = map[string]int{}
	}
	w.total++
	w.byClient[client]++
	var once sync.Once
	return func() { once.Do(func() { w.release(client) }) }, nil
}

func (w *Watchers) release(client string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.total--
	if w.byClient[client]--; w.byClient[client] <= 0 {
		delete(w.byClient, client)
	}
}
