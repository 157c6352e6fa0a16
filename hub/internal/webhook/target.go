package webhook

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// MaxQueue bounds the notifications waiting for one webhook; past it the
// oldest are dropped (and counted). Each alert has at most two waiting (its
// firing and its resolved), so only a fleet with that many alerts reaches it.
const MaxQueue = 10000

// target is one webhook URL: what its receiver has been told, and what it
// has still to be told, in order.
type target struct {
	name   string // "webhook-1": for logs and metrics (URLs may hold secrets)
	url    string
	host   string
	format Format
	path   string // state file
	wake   chan struct{}
	stats  *stats

	mu sync.Mutex
	// delivered holds the alerts the receiver was told fire (and not yet
	// that they were resolved), by fingerprint; it is kept in path.
	delivered map[string]Alert
	// last is the status last queued per fingerprint, known its alert.
	last  map[string]string
	known map[string]Alert
	queue []message
}

// stateFile is the file that keeps what a URL's receiver was told.
func stateFile(dir, url string) string {
	sum := sha256.Sum256([]byte(url))
	return filepath.Join(dir, "webhook-"+hex.EncodeToString(sum[:6])+".json")
}

// savedState is the state file's content.
type savedState struct {
	Firing map[string]Alert `json:"firing"`
}

func newTarget(name, url, host string, f Format, dir string, st *stats) (*target, error) {
	t := &target{name: name, url: url, host: host, format: f, path: stateFile(dir, url), wake: make(chan struct{}, 1), stats: st,
		delivered: map[string]Alert{}, last: map[string]string{}, known: map[string]Alert{}}
	b, err := os.ReadFile(t.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return t, nil
	case err != nil:
		return nil, fmt.Errorf("read the state of %s: %w", name, err)
	}
	var s savedState
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("read the state of %s from %s: %w", name, t.path, err)
	}
	for fp, a := range s.Firing {
		t.delivered[fp], t.last[fp], t.known[fp] = a, firing, a
	}
	return t, nil
}

// save writes what the receiver was told, atomically. Caller holds mu.
func (t *target) save() error {
	b, err := json.Marshal(savedState{Firing: t.delivered})
	if err != nil {
		return err
	}
	tmp := t.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("save the state of %s: %w", t.name, err)
	}
	if err := os.Rename(tmp, t.path); err != nil {
		return fmt.Errorf("save the state of %s: %w", t.name, err)
	}
	return nil
}

// reconcile queues what the receiver has not been told: alerts that fire
// and were not announced, and announced alerts that no longer fire.
func (t *target) reconcile(now time.Time, fire map[string]Alert) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(t.queue)
	for fp, a := range fire {
		if t.last[fp] != firing {
			t.push(message{status: firing, fp: fp, alert: a})
			t.last[fp], t.known[fp] = firing, a
		}
	}
	for fp, st := range t.last {
		if _, ok := fire[fp]; st == firing && !ok {
			t.push(message{status: resolved, fp: fp, alert: t.known[fp], endsAt: now})
			t.last[fp] = resolved
		}
	}
	if len(t.queue) != n {
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
}

// push queues m, dropping the oldest past MaxQueue. Caller holds mu.
func (t *target) push(m message) {
	if len(t.queue) >= MaxQueue {
		old := t.queue[0]
		t.queue = t.queue[1:]
		t.stats.dropped.WithLabelValues(t.name).Inc()
		if t.last[old.fp] == old.status {
			delete(t.last, old.fp) // queued again if it still applies
		}
	}
	t.queue = append(t.queue, m)
	t.stats.queue.WithLabelValues(t.name).Set(float64(len(t.queue)))
}

// head is the next message to send.
func (t *target) head() (message, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.queue) == 0 {
		return message{}, false
	}
	return t.queue[0], true
}

// done records that the receiver took (or refused for good) the head
// message, and keeps the state.
func (t *target) done(m message) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.queue) > 0 && t.queue[0].fp == m.fp && t.queue[0].status == m.status {
		t.queue = t.queue[1:]
	}
	t.stats.queue.WithLabelValues(t.name).Set(float64(len(t.queue)))
	if m.status == firing {
		t.delivered[m.fp] = m.alert
	} else {
		delete(t.delivered, m.fp)
		if t.last[m.fp] == resolved {
			delete(t.last, m.fp)
			delete(t.known, m.fp)
		}
	}
	return t.save()
}
