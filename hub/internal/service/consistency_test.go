package service

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// busyReport: of eight GPUs, the first n hold 40000 MiB each at 80 %.
func busyReport(at time.Time, n int) *gpumonv1.Report {
	r := &gpumonv1.Report{Timestamp: timestamppb.New(at)}
	for i := range 8 {
		g := &gpumonv1.Gpu{Id: int32(i), MemoryTotal: 81559, Utilization: proto.Uint32(0)}
		if i < n {
			g.MemoryUsed, g.Utilization = 40000, proto.Uint32(80)
			g.Processes = []*gpumonv1.Process{{Pid: int32(100 + i), Username: "alice", GpuMemoryUsage: 40000}}
		}
		r.GpuData = append(r.GpuData, g)
	}
	return r
}

// agrees reports whether a summary describes a report.
func agrees(s *gpumonv1.MachineSummary, r *gpumonv1.Report) bool {
	var busy, used uint32
	for _, g := range r.GetGpuData() {
		used += g.GetMemoryUsed()
		if len(g.GetProcesses()) > 0 {
			busy++
		}
	}
	return s.GetGpusBusy() == busy && s.GetGpuMemoryUsed() == used
}

func newFleetService() (*Fleet, *fleet.Fleet, *fleet.Machine) {
	f := fleet.New(nil)
	m, _ := f.Attach(fleet.Hello{Hello: &gpumonv1.Hello{Hostname: "h", MachineId: "m", Epoch: 1}, Interval: time.Second, Conn: fleet.NewAgentConn(false)})
	return &Fleet{Fleet: f, Stats: &Stats{}, Log: slog.New(slog.DiscardHandler)}, f, m
}

// TestMachineSummaryDescribesItsReport: GetMachine's summary and report come
// from one state while samples keep arriving (a page draws its header from
// the one and its GPU cards from the other).
func TestMachineSummaryDescribesItsReport(t *testing.T) {
	s, f, m := newFleetService()
	start := time.Now()
	f.Ingest(m, 1, busyReport(start, 0))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 3000 {
			f.Ingest(m, uint64(i+2), busyReport(start.Add(time.Duration(i+1)*time.Millisecond), i%9))
		}
	}()
	for range 3000 {
		resp, err := s.GetMachine(context.Background(), &gpumonv1.GetMachineRequest{Machine: "h"})
		if err != nil {
			t.Fatal(err)
		}
		if !agrees(resp.GetSummary(), resp.GetReport()) {
			t.Fatalf("summary says %d busy, %d MiB; its report differs", resp.GetSummary().GetGpusBusy(), resp.GetSummary().GetGpuMemoryUsed())
		}
	}
	wg.Wait()
}

// TestWatchEventDescribesItsSample: each watch event's summary and report
// are of the sample that caused it, even when the watcher reads it after
// newer samples arrived.
func TestWatchEventDescribesItsSample(t *testing.T) {
	s, f, m := newFleetService()
	sub := f.Events().Subscribe(16)
	defer sub.Close()
	start := time.Now()
	for i := range 5 {
		f.Ingest(m, uint64(i+1), busyReport(start.Add(time.Duration(i)*time.Second), i+1))
	}
	req := &gpumonv1.WatchRequest{IncludeReport: true}
	n := 0
	for len(sub.C) > 0 {
		ev := <-sub.C
		if ev.Type != gpumonv1.WatchEventType_WATCH_EVENT_TYPE_SAMPLE {
			continue
		}
		n++
		resp := s.watchResponse(req, nil, &ev)
		if !agrees(resp.GetMachine(), resp.GetReport()) || resp.GetMachine().GetGpusBusy() != uint32(n) {
			t.Errorf("event %d: summary says %d busy, want %d, as its report", n, resp.GetMachine().GetGpusBusy(), n)
		}
	}
	if n != 5 {
		t.Fatalf("%d sample events, want 5", n)
	}
}

func TestListFreeGpusRefusesBadCriteria(t *testing.T) {
	s, _, _ := newFleetService()
	for _, req := range []*gpumonv1.ListFreeGpusRequest{
		{MaxUtilization: proto.Uint32(500)},
		{MinFreePercent: proto.Uint32(101)},
	} {
		if _, err := s.ListFreeGpus(context.Background(), req); status.Code(err) != codes.InvalidArgument {
			t.Errorf("ListFreeGpus(%v) = %v, want InvalidArgument", req, err)
		}
	}
	resp, err := s.ListFreeGpus(context.Background(), &gpumonv1.ListFreeGpusRequest{})
	if err != nil || resp.GetCriteria().GetMaxUtilization() != 10 || resp.GetCriteria().GetMinFreePercent() != 90 {
		t.Errorf("criteria of a plain request = %v (%v), want the defaults filled in", resp.GetCriteria(), err)
	}
}
