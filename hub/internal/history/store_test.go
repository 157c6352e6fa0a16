package history

import (
	"context"
	"math"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
)

var t0 = time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)

func testMachine(t *testing.T, f *fleet.Fleet, host string) *fleet.Machine {
	t.Helper()
	m, _ := f.Attach(fleet.Hello{Hello: &gpumonv1.Hello{Hostname: host, MachineId: host, Epoch: 1}, Interval: 2 * time.Second, Conn: fleet.NewAgentConn(false)})
	return m
}

// gpuReport is a report at t with GPU 0 at util% and GPU 1 idle but held by bob.
func gpuReport(at time.Time, util uint32) *gpumonv1.Report {
	return &gpumonv1.Report{
		Timestamp: timestamppb.New(at), Hostname: "n1", IntervalSeconds: 2,
		GpuData: []*gpumonv1.Gpu{
			{Id: 0, Uuid: "GPU-0", Name: "H100", Utilization: proto.Uint32(util), MemoryUsed: 1000 + util, MemoryTotal: 80000, Temperature: proto.Uint32(40),
				Processes: []*gpumonv1.Process{{Pid: 10, Username: "alice", GpuMemoryUsage: 1000}}},
			{Id: 1, Uuid: "GPU-1", Name: "H100", Utilization: proto.Uint32(0), MemoryUsed: 30000, MemoryTotal: 80000,
				Processes: []*gpumonv1.Process{{Pid: 11, Username: "bob", GpuMemoryUsage: 30000}}},
		},
		SystemInfo: &gpumonv1.SystemInfo{CpuPercent: float64(util) / 2},
	}
}

func openStore(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestWrittenThenQueriedBackExactly(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	f := fleet.New(nil)
	m := testMachine(t, f, "n1")
	for i := range 30 { // 60 s of samples, util = i
		s.Record(m, gpuReport(t0.Add(time.Duration(i)*2*time.Second), uint32(i)), uint64(i+1))
	}
	svc := &Service{Ranger: s, Now: func() time.Time { return t0.Add(time.Minute) }}
	gpu := int32(0)
	resp, err := svc.Query(context.Background(), &gpumonv1.QueryHistoryRequest{
		Metric: "gpu_utilization", Machine: "n1", Gpu: &gpu,
		Start: timestamppb.New(t0.Add(20 * time.Second)), End: timestamppb.New(t0.Add(40 * time.Second)),
		Step: durationpb.New(10 * time.Second),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Series) != 1 || resp.Series[0].Labels["gpu"] != "0" || resp.Series[0].Labels["UUID"] != "GPU-0" {
		t.Fatalf("series = %v", resp.Series)
	}
	// avg_over_time over the 15 s window ending at each step (samples every 2 s).
	want := map[float64]float64{}
	for _, end := range []time.Duration{20, 30, 40} {
		sum, n := 0.0, 0.0
		for i := range 30 {
			ts := time.Duration(i) * 2 * time.Second
			if ts > end*time.Second-MinWindow && ts <= end*time.Second {
				sum += float64(i)
				n++
			}
		}
		want[float64(t0.Add(end*time.Second).Unix())] = sum / n
	}
	pts := resp.Series[0].Points
	if len(pts) != 3 {
		t.Fatalf("points = %v, want 3", pts)
	}
	for _, p := range pts {
		if math.Abs(p.Value-want[p.Time]) > 1e-9 {
			t.Errorf("at %v: %v, want %v", p.Time, p.Value, want[p.Time])
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopened (a hub restart): the same answer from the WAL.
	s = openStore(t, dir)
	defer s.Close()
	svc.Ranger = s
	again, err := svc.Query(context.Background(), &gpumonv1.QueryHistoryRequest{
		Metric: "gpu_utilization", Machine: "n1", Gpu: &gpu,
		Start: timestamppb.New(t0.Add(20 * time.Second)), End: timestamppb.New(t0.Add(40 * time.Second)),
		Step: durationpb.New(10 * time.Second),
	})
	if err != nil || !proto.Equal(again, resp) {
		t.Fatalf("after reopening: %v (%v), want %v", again, err, resp)
	}
}

func TestReplayedSamplesAtTheirOwnTimesNoDuplicates(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	m := testMachine(t, fleet.New(nil), "n1")
	// Live samples 0..4, then an outage; the agent replays 5..9 later (and
	// 3..4 again, already stored), then goes on live.
	for i := range 5 {
		s.Record(m, gpuReport(t0.Add(time.Duration(i)*2*time.Second), 50), uint64(i+1))
	}
	for i := 3; i < 12; i++ {
		s.Record(m, gpuReport(t0.Add(time.Duration(i)*2*time.Second), 50), uint64(i+1))
	}
	res, err := s.Instant(context.Background(), `count_over_time(DCGM_FI_DEV_GPU_UTIL{gpu="0"}[1h])`, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Points[0].Value != 12 {
		t.Fatalf("count of samples = %v, want 12 (one per sample time)", res)
	}
}

func TestQueryRefusesBadInput(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	svc := &Service{Ranger: s}
	for _, req := range []*gpumonv1.QueryHistoryRequest{
		{Metric: ""},
		{Metric: "up{job=\"x\"}"},
		{Metric: "cpu_percent", Start: timestamppb.New(t0), End: timestamppb.New(t0.Add(-time.Hour))},
		{Metric: "cpu_percent", Start: timestamppb.New(t0), End: timestamppb.New(t0.Add(24 * time.Hour)), Step: durationpb.New(time.Second)},
	} {
		if _, err := svc.Query(context.Background(), req); err == nil {
			t.Errorf("accepted %v", req)
		}
	}
}

func TestRetentionDeletesOldBlocks(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Retention: 24 * time.Hour, BlockDuration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m := testMachine(t, fleet.New(nil), "n1")
	old := t0.Add(-10 * 24 * time.Hour)
	for i := range 4 * 60 { // 4 h of old samples, one a minute
		s.Record(m, gpuReport(old.Add(time.Duration(i)*time.Minute), 10), 0)
	}
	for i := range 4 * 60 { // 4 h of recent samples
		s.Record(m, gpuReport(t0.Add(time.Duration(i)*time.Minute), 10), 0)
	}
	if err := s.DB().Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	var oldest int64 = math.MaxInt64
	for _, b := range s.DB().Blocks() {
		oldest = min(oldest, b.Meta().MinTime)
	}
	if len(s.DB().Blocks()) == 0 {
		t.Fatal("no blocks were cut")
	}
	if oldest < t0.Add(-24*time.Hour).UnixMilli() {
		t.Errorf("a block from %s survived a 24 h retention", time.UnixMilli(oldest).UTC())
	}
	res, err := s.Instant(context.Background(), `count_over_time(DCGM_FI_DEV_GPU_UTIL{gpu="0"}[2h])`, old.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 0 {
		t.Errorf("old samples still answer queries: %v", res)
	}
}

// TestEveryGPUFigureHasHistory: PCIe link and each user's SM share are
// stored and answer the native route under their friendly names.
func TestEveryGPUFigureHasHistory(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	m := testMachine(t, fleet.New(nil), "n1")
	for i := range 10 {
		r := gpuReport(t0.Add(time.Duration(i)*2*time.Second), 50)
		g := r.GpuData[0]
		g.PcieGeneration, g.PcieWidth = proto.Uint32(4), proto.Uint32(16)
		g.Processes = []*gpumonv1.Process{
			{Pid: 10, Username: "alice", SmUtilization: proto.Uint32(30)},
			{Pid: 11, Username: "alice", SmUtilization: proto.Uint32(12)},
			{Pid: 12, Username: "bob", SmUtilization: proto.Uint32(5)},
			{Pid: 13, Username: "carol"}, // reports no SM share: no series
		}
		s.Record(m, r, uint64(i+1))
	}
	svc := &Service{Ranger: s, Now: func() time.Time { return t0.Add(30 * time.Second) }}
	gpu := int32(0)
	for _, tc := range []struct {
		metric string
		want   map[string]float64 // by user label ("" for none)
	}{
		{"gpu_pcie_generation", map[string]float64{"": 4}},
		{"gpu_pcie_width", map[string]float64{"": 16}},
		{"user_gpu_sm_utilization", map[string]float64{"alice": 42, "bob": 5}},
	} {
		resp, err := svc.Query(context.Background(), &gpumonv1.QueryHistoryRequest{Metric: tc.metric, Machine: "n1", Gpu: &gpu,
			Start: timestamppb.New(t0), End: timestamppb.New(t0.Add(20 * time.Second)), Step: durationpb.New(10 * time.Second)})
		if err != nil {
			t.Fatalf("%s: %v", tc.metric, err)
		}
		got := map[string]float64{}
		for _, ser := range resp.Series {
			if len(ser.Points) > 0 {
				got[ser.Labels["user"]] = ser.Points[len(ser.Points)-1].Value
			}
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: %v, want %v", tc.metric, got, tc.want)
		}
		for u, v := range tc.want {
			if got[u] != v {
				t.Errorf("%s user %q = %v, want %v", tc.metric, u, got[u], v)
			}
		}
	}
}
