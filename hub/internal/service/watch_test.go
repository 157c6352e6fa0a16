package service

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// fakeWatch is the hub's side of one watch stream. Send blocks while
// blocked is set, as a client that stops reading does.
type fakeWatch struct {
	grpc.ServerStream
	ctx     context.Context
	out     chan *gpumonv1.WatchResponse
	blocked chan struct{} // when not nil, Send waits for it to close
}

func (s *fakeWatch) Context() context.Context { return s.ctx }

func (s *fakeWatch) Send(m *gpumonv1.WatchResponse) error {
	if s.blocked != nil {
		select {
		case <-s.blocked:
		case <-s.ctx.Done():
			return s.ctx.Err()
		}
	}
	select {
	case s.out <- m:
		return nil
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
}

// watcher is a running Watch.
type watcher struct {
	t      *testing.T
	s      *fakeWatch
	cancel context.CancelFunc
	done   chan error
}

func watch(t *testing.T, svc *Fleet, req *gpumonv1.WatchRequest, blocked chan struct{}) *watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	w := &watcher{t: t, s: &fakeWatch{ctx: ctx, out: make(chan *gpumonv1.WatchResponse, 256), blocked: blocked}, cancel: cancel, done: make(chan error, 1)}
	go func() { w.done <- svc.Watch(req, w.s) }()
	t.Cleanup(func() { cancel(); <-w.done })
	return w
}

// next is the next event that is not a heartbeat.
func (w *watcher) next() *gpumonv1.WatchResponse {
	w.t.Helper()
	for {
		select {
		case m := <-w.s.out:
			if m.GetType() != gpumonv1.WatchEventType_WATCH_EVENT_TYPE_HEARTBEAT {
				return m
			}
		case err := <-w.done:
			w.done <- err
			w.t.Fatalf("the watch ended (%v) while an event was expected", err)
		case <-time.After(time.Minute):
			w.t.Fatal("no event")
		}
	}
}

func (w *watcher) end() error {
	w.t.Helper()
	select {
	case err := <-w.done:
		w.done <- err
		return err
	case <-time.After(time.Minute):
		w.t.Fatal("the watch did not end")
	}
	return nil
}

// watchedFleet is a fleet service with one agent stream feeding it.
func watchedFleet(t *testing.T) (*Fleet, *Agents) {
	a := newAgents(&recordingSink{})
	svc := &Fleet{Fleet: a.Fleet, Stats: a.Stats, Log: slog.New(slog.DiscardHandler)}
	return svc, a
}

// TestWatchFanOut: every watcher gets the current state of every machine
// first, then each change; a watcher of one machine gets only that one's.
func TestWatchFanOut(t *testing.T) {
	svc, a := watchedFleet(t)
	gpu1 := connect(t, a)
	gpu1.hello(helloOf("gpu-01", "id-1", 1))
	gpu1.welcome()
	gpu1.snapshot(1, reportAt(1))
	gpu1.ackOf(1)

	all1 := watch(t, svc, &gpumonv1.WatchRequest{}, nil)
	all2 := watch(t, svc, &gpumonv1.WatchRequest{IncludeReport: true}, nil)
	only2 := watch(t, svc, &gpumonv1.WatchRequest{Machine: "gpu-02"}, nil)
	for _, w := range []*watcher{all1, all2} {
		if ev := w.next(); ev.GetType() != gpumonv1.WatchEventType_WATCH_EVENT_TYPE_INITIAL || ev.GetMachine().GetKey() != "gpu-01" {
			t.Fatalf("first event %v, want gpu-01's initial state", ev)
		}
	}
	gpu1.snapshot(2, reportAt(11))
	gpu1.ackOf(2)
	gpu2 := connect(t, a)
	gpu2.hello(helloOf("gpu-02", "id-2", 1))
	gpu2.welcome()
	gpu2.snapshot(1, reportAt(22))
	gpu2.ackOf(1)
	// Each watcher of the whole fleet sees gpu-02's sample and gpu-01's
	// second one, each in its order.
	for i, w := range []*watcher{all1, all2} {
		seen := map[string]float64{}
		for len(seen) < 2 || seen["gpu-02"] != 22 || seen["gpu-01"] != 11 {
			ev := w.next()
			if ev.GetType() == gpumonv1.WatchEventType_WATCH_EVENT_TYPE_SAMPLE {
				seen[ev.GetMachine().GetKey()] = ev.GetMachine().GetCpuPercent()
				if i == 1 && ev.GetReport() == nil {
					t.Errorf("watcher with include_report got a sample without the report")
				}
				if i == 0 && ev.GetReport() != nil {
					t.Errorf("watcher without include_report got the report")
				}
			}
		}
	}
	for {
		ev := only2.next()
		if ev.GetMachine().GetKey() != "gpu-02" {
			t.Fatalf("the watcher of gpu-02 got %v", ev)
		}
		if ev.GetType() == gpumonv1.WatchEventType_WATCH_EVENT_TYPE_SAMPLE {
			break
		}
	}
}

// TestWatchRefusals: bad criteria end the watch before any event; over the
// caps it is refused and counted.
func TestWatchRefusals(t *testing.T) {
	svc, _ := watchedFleet(t)
	svc.Watchers = &Watchers{Max: 1, PerClient: 1}
	w := watch(t, svc, &gpumonv1.WatchRequest{Free: &gpumonv1.ListFreeGpusRequest{MaxUtilization: ptr(uint32(500))}}, nil)
	if err := w.end(); codeOf(err) != codes.InvalidArgument {
		t.Errorf("watch with utilisation 500 %%: %v, want InvalidArgument", err)
	}
	svc.Heartbeat = 10 * time.Millisecond
	first := watch(t, svc, &gpumonv1.WatchRequest{}, nil)
	select {
	case <-first.s.out: // a heartbeat: the first watch is admitted
	case <-time.After(time.Minute):
		t.Fatal("the first watch sent no heartbeat")
	}
	if err := watch(t, svc, &gpumonv1.WatchRequest{}, nil).end(); codeOf(err) != codes.ResourceExhausted {
		t.Errorf("a second watch over --max-watchers 1: %v, want ResourceExhausted", err)
	}
	if svc.Stats.WatchRefused.Load() != 1 {
		t.Errorf("%d refused watches counted, want 1", svc.Stats.WatchRefused.Load())
	}
	first.cancel()
	first.end()
	again := watch(t, svc, &gpumonv1.WatchRequest{}, nil)
	select {
	case <-again.s.out:
	case err := <-again.done:
		t.Fatalf("a watch after the first ended was refused: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("the watch after the first ended sent nothing")
	}
}

// TestSlowWatcherDisconnected: a watcher that stops reading while the fleet
// changes is ended with ResourceExhausted once it falls WatchMaxLag behind,
// and counted; the agents' streams are not held up meanwhile.
func TestSlowWatcherDisconnected(t *testing.T) {
	svc, a := watchedFleet(t)
	svc.WatchMaxLag = time.Millisecond
	gpu1 := connect(t, a)
	gpu1.hello(helloOf("gpu-01", "id-1", 1))
	gpu1.welcome()
	stuck := make(chan struct{})
	defer close(stuck)
	w := watch(t, svc, &gpumonv1.WatchRequest{}, stuck)
	// The fleet keeps changing until the watch ends: snapshots ingested
	// before the watch has subscribed (a busy machine can run them all
	// first) would leave it nothing to fall behind on.
	deadline := time.Now().Add(time.Minute)
	for seq := uint64(1); len(w.done) == 0; seq++ {
		if time.Now().After(deadline) {
			t.Fatalf("the stuck watch did not end within a minute of %d snapshots", seq)
		}
		gpu1.snapshot(seq, reportAt(float64(seq)))
		gpu1.ackOf(seq) // the agent's stream is not held up
		time.Sleep(10 * time.Millisecond)
	}
	if err := w.end(); codeOf(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "behind") {
		t.Errorf("stuck watcher ended with %v, want ResourceExhausted saying it fell behind", err)
	}
	if svc.Stats.WatchBehind.Load() != 1 {
		t.Errorf("%d watchers counted as behind, want 1", svc.Stats.WatchBehind.Load())
	}
}

func ptr[T any](v T) *T { return &v }
