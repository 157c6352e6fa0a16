package gateway

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

type countingMarshaler struct {
	Marshaler
	calls atomic.Int64
}

func (c *countingMarshaler) Marshal(v any) ([]byte, error) {
	c.calls.Add(1)
	return c.Marshaler.Marshal(v)
}

// TestEncodeOnce: 100 watchers sent the same event cause one encoding, and
// get the bytes the marshaler gives; other events and values are encoded
// apart; what is kept stays within its bound.
func TestEncodeOnce(t *testing.T) {
	inner := &countingMarshaler{}
	e := newEncodeOnce(inner, 4<<10)
	ev := &gpumonv1.WatchResponse{Type: gpumonv1.WatchEventType_WATCH_EVENT_TYPE_SAMPLE, Machine: &gpumonv1.MachineSummary{Key: "gpu-a"}}
	want, _ := (&Marshaler{}).Marshal(map[string]any{"result": ev})
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := e.Marshal(map[string]any{"result": ev})
			if err != nil || string(got) != string(want) {
				t.Errorf("got %s, %v; want %s", got, err, want)
			}
		}()
	}
	wg.Wait()
	if n := inner.calls.Load(); n != 1 {
		t.Fatalf("%d encodings of one event for 100 watchers, want 1", n)
	}
	other := &gpumonv1.WatchResponse{Type: gpumonv1.WatchEventType_WATCH_EVENT_TYPE_HEARTBEAT}
	_, _ = e.Marshal(map[string]any{"result": other})
	_, _ = e.Marshal(map[string]any{"error": "x"})
	if n := inner.calls.Load(); n != 3 {
		t.Fatalf("%d encodings, want 3", n)
	}
	for i := range 1000 {
		_, _ = e.Marshal(map[string]any{"result": &gpumonv1.WatchResponse{Machine: &gpumonv1.MachineSummary{Key: fmt.Sprint(i)}}})
	}
	if e.size > 4<<10 || len(e.entries) != len(e.order) {
		t.Fatalf("%d bytes kept in %d entries (%d in order), bound %d", e.size, len(e.entries), len(e.order), 4<<10)
	}
}

// BenchmarkWatchFanOut: one event with a machine's report to 100 watchers,
// each encoding it, and encoded once for all.
func BenchmarkWatchFanOut(b *testing.B) {
	ev := &gpumonv1.WatchResponse{Type: gpumonv1.WatchEventType_WATCH_EVENT_TYPE_SAMPLE, Machine: &gpumonv1.MachineSummary{Key: "gpu-a"},
		Report: &gpumonv1.Report{Hostname: "gpu-a", SystemInfo: &gpumonv1.SystemInfo{}}}
	for i := range 300 {
		ev.Report.SystemInfo.Processes = append(ev.Report.SystemInfo.Processes, &gpumonv1.Process{Pid: int32(i), Name: "python",
			Cmdline: fmt.Sprintf("python train.py --config configs/exp-%03d.yaml --lr 3e-4", i), CpuPercent: 1.5})
	}
	for _, tt := range []struct {
		name string
		m    func() runtime.Marshaler
	}{
		{"per-watcher", func() runtime.Marshaler { return &Marshaler{} }},
		{"once", func() runtime.Marshaler { return newEncodeOnce(&Marshaler{}, 32<<20) }},
	} {
		b.Run(tt.name, func(b *testing.B) {
			for b.Loop() {
				m := tt.m()
				msg := proto100(ev)
				for range 100 {
					_, _ = m.Marshal(map[string]any{"result": msg})
				}
			}
		})
	}
}

// proto100 is a fresh event each round (the hub publishes new ones).
func proto100(ev *gpumonv1.WatchResponse) *gpumonv1.WatchResponse {
	return &gpumonv1.WatchResponse{Type: ev.Type, Machine: ev.Machine, Report: ev.Report}
}
