package gpu

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"

	"github.com/gpumon/gpumon/agent/internal/collect"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// eventSource is a mock NVML event set fed by the test. Calls are recorded
// in order with the library's Shutdown, so the test sees what came first.
type eventSource struct {
	events chan nvml.EventData
	block  chan struct{} // while open and set, Wait hangs as a stuck driver would
	mu     sync.Mutex
	calls  []string
}

func (e *eventSource) record(call string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, call)
}

func (e *eventSource) Calls() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.calls...)
}

// xidLib is a library of n GPUs; those in watched support Xid events.
func xidLib(n int, watched ...int) (*mock.Interface, []*mock.Device, *eventSource) {
	src := &eventSource{events: make(chan nvml.EventData, 8)}
	devs := fakeDevices(n)
	set := &mock.EventSet{
		WaitFunc: func(ms uint32) (nvml.EventData, nvml.Return) {
			if b := src.block; b != nil {
				<-b
			}
			select {
			case ev := <-src.events:
				return ev, nvml.SUCCESS
			case <-time.After(time.Duration(ms) * time.Millisecond):
				return nvml.EventData{}, nvml.ERROR_TIMEOUT
			}
		},
		FreeFunc: func() nvml.Return { src.record("Free"); return nvml.SUCCESS },
	}
	for i, d := range devs {
		supported := false
		for _, w := range watched {
			supported = supported || w == i
		}
		d.GetSupportedEventTypesFunc = func() (uint64, nvml.Return) {
			if !supported {
				return 0, nvml.ERROR_NOT_SUPPORTED
			}
			return nvml.EventTypeXidCriticalError | nvml.EventTypeSingleBitEccError, nvml.SUCCESS
		}
		d.RegisterEventsFunc = func(types uint64, s nvml.EventSet) nvml.Return {
			if types != nvml.EventTypeXidCriticalError || s != nvml.EventSet(set) {
				return nvml.ERROR_INVALID_ARGUMENT
			}
			return nvml.SUCCESS
		}
	}
	lib := fakeLib(devs...)
	lib.EventSetCreateFunc = func() (nvml.EventSet, nvml.Return) { src.record("EventSetCreate"); return set, nvml.SUCCESS }
	lib.ShutdownFunc = func() nvml.Return { src.record("Shutdown"); return nvml.SUCCESS }
	return lib, devs, src
}

func xidOf(t *testing.T, c *Collector) []*gpumonv1.Gpu {
	t.Helper()
	s, err := collectOnce(t, c)
	if err != nil {
		t.Fatal(err)
	}
	return s.GPUs
}

// TestXIDEvents: the GPUs that support Xid events report a count from 0,
// and after an event its Xid and time; a GPU without support reports none
// (absent, not 0); an event of a handle never registered counts nowhere;
// Close frees the event set before NVML shuts down.
func TestXIDEvents(t *testing.T) {
	lib, devs, src := xidLib(3, 0, 1)
	c := New(lib, nil, WithXIDEvents())
	gpus := xidOf(t, c)
	for i, g := range gpus {
		if want := i < 2; (g.XidErrors != nil) != want || (want && g.GetXidErrors() != 0) || g.LastXid != nil || g.LastXidTime != nil {
			t.Errorf("GPU %d before any event: xid_errors=%v last=%v at=%v (watched: %v)", i, g.XidErrors, g.LastXid, g.LastXidTime, want)
		}
	}
	before := time.Now()
	src.events <- nvml.EventData{Device: fakeDevice(1), EventType: nvml.EventTypeXidCriticalError, EventData: 13} // not a registered handle
	src.events <- nvml.EventData{Device: devs[1], EventType: nvml.EventTypeSingleBitEccError, EventData: 1}       // another event type
	src.events <- nvml.EventData{Device: devs[1], EventType: nvml.EventTypeXidCriticalError, EventData: 79}
	src.events <- nvml.EventData{Device: devs[1], EventType: nvml.EventTypeXidCriticalError, EventData: 48}
	deadline := time.Now().Add(30 * time.Second)
	for gpus = xidOf(t, c); gpus[1].GetXidErrors() < 2; gpus = xidOf(t, c) {
		if time.Now().After(deadline) {
			t.Fatalf("GPU 1 never counted two Xid events: %v", gpus[1].XidErrors)
		}
		time.Sleep(20 * time.Millisecond)
	}
	g := gpus[1]
	if g.GetXidErrors() != 2 || g.GetLastXid() != 48 || g.GetLastXidTime().AsTime().Before(before.Truncate(time.Second)) {
		t.Errorf("GPU 1: xid_errors=%d last=%d at=%v, want 2, 48, after %v", g.GetXidErrors(), g.GetLastXid(), g.GetLastXidTime().AsTime(), before)
	}
	if gpus[0].GetXidErrors() != 0 || gpus[2].XidErrors != nil {
		t.Errorf("other GPUs changed: GPU 0 %v, GPU 2 %v", gpus[0].XidErrors, gpus[2].XidErrors)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(src.Calls(), ","); got != "EventSetCreate,Free,Shutdown" {
		t.Errorf("calls %s, want the set created, freed, then NVML shut down", got)
	}
}

// TestXIDWatcherNeverHoldsACollection: while the watcher waits in a driver
// call that does not return, collections go on.
func TestXIDWatcherNeverHoldsACollection(t *testing.T) {
	lib, _, src := xidLib(2, 0, 1)
	src.block = make(chan struct{})
	c := New(lib, nil, WithXIDEvents())
	for range 5 {
		if gpus := xidOf(t, c); len(gpus) != 2 || gpus[0].GetXidErrors() != 0 {
			t.Fatalf("collection while the watcher hangs: %v", gpus)
		}
	}
	close(src.block)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestXIDWithoutSupport: no GPU supports Xid events, or the set cannot be
// created: the GPUs report no Xid fields and nothing is left running.
func TestXIDWithoutSupport(t *testing.T) {
	t.Run("no GPU supports them", func(t *testing.T) {
		lib, _, src := xidLib(2)
		c := New(lib, nil, WithXIDEvents())
		for _, g := range xidOf(t, c) {
			if g.XidErrors != nil {
				t.Errorf("GPU %d reports xid_errors without support", g.GetId())
			}
		}
		_ = c.Close()
		if got := strings.Join(src.Calls(), ","); got != "EventSetCreate,Free,Shutdown" {
			t.Errorf("calls %s: the unused set must be freed", got)
		}
	})
	t.Run("no event set", func(t *testing.T) {
		lib, _, _ := xidLib(2, 0, 1)
		lib.EventSetCreateFunc = func() (nvml.EventSet, nvml.Return) { return nil, nvml.ERROR_NOT_SUPPORTED }
		c := New(lib, nil, WithXIDEvents())
		for _, g := range xidOf(t, c) {
			if g.XidErrors != nil {
				t.Errorf("GPU %d reports xid_errors without an event set", g.GetId())
			}
		}
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
}

// TestXIDNeverAfterFailedInit: with NVML missing, the watcher is never
// started: no event function is called (it would kill the process).
func TestXIDNeverAfterFailedInit(t *testing.T) {
	lib := &mock.Interface{InitFunc: func() nvml.Return { return nvml.ERROR_LIBRARY_NOT_FOUND }}
	tripwire(t, lib)
	c := New(lib, nil, WithXIDEvents())
	if _, err := collectOnce(t, c); !errors.Is(err, collect.ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
	if err := c.Close(); err != nil {
		t.Error(err)
	}
}
