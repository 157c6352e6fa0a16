package fleet

import (
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/gpustate"
)

func criteria(t *testing.T, req *gpumonv1.ListFreeGpusRequest) *gpumonv1.ListFreeGpusRequest {
	t.Helper()
	c, err := gpustate.Criteria(req)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFreeGPUs(t *testing.T) {
	f, c := newTestFleet()
	m, _ := f.Attach(hello("gpu1", "id", 1))
	rep := &gpumonv1.Report{Timestamp: timestamppb.New(c.t), GpuData: []*gpumonv1.Gpu{
		{Id: 0, MemoryUsed: 70000, MemoryTotal: 80000},
		{Id: 1, MemoryUsed: 0, MemoryTotal: 80000},
		{Id: 2, MemoryUsed: 1000, MemoryTotal: 80000, Processes: []*gpumonv1.Process{{Pid: 9}}},
		{Id: 3, MemoryUsed: 0, MemoryTotal: 80000, Error: "GPU is lost"},
		{Id: 4, MemoryUsed: 500, MemoryTotal: 24564, Processes: []*gpumonv1.Process{{Pid: 10, GpuUsageType: "graphics"}}},
	}}
	f.Ingest(m, 1, rep)
	index := func(gs []*gpumonv1.FreeGpu) []int32 {
		var out []int32
		for _, g := range gs {
			out = append(out, g.GetIndex())
		}
		return out
	}
	for _, tc := range []struct {
		name string
		req  *gpumonv1.ListFreeGpusRequest
		want []int32
	}{
		{"defaults: no compute process, mostly free; the broken GPU never", &gpumonv1.ListFreeGpusRequest{}, []int32{1, 4}},
		{"at least 20000 MiB free", &gpumonv1.ListFreeGpusRequest{MinFreeMemory: 20000}, []int32{1, 4}},
		{"shared: GPU 2 with its process, after the GPUs without", &gpumonv1.ListFreeGpusRequest{Shared: true}, []int32{1, 4, 2}},
		{"idle: no process at all", &gpumonv1.ListFreeGpusRequest{Idle: true}, []int32{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := index(f.FreeGPUs(criteria(t, tc.req))); !slices.Equal(got, tc.want) {
				t.Errorf("free GPUs %v, want %v", got, tc.want)
			}
		})
	}
	f.Detach(m, m.Conn())
	if got := f.FreeGPUs(criteria(t, &gpumonv1.ListFreeGpusRequest{})); len(got) != 0 {
		t.Errorf("GPUs of an offline machine listed as free: %v", got)
	}
	if got := f.FreeGPUs(criteria(t, &gpumonv1.ListFreeGpusRequest{IncludeOffline: true})); len(got) != 2 || got[0].GetOnline() {
		t.Errorf("include_offline: %v, want 2 GPUs marked offline", got)
	}
}

// gpus8 is a report of eight GPUs: n of them busy with a process, the rest
// idle and empty.
func gpus8(at time.Time, busy int) *gpumonv1.Report {
	r := &gpumonv1.Report{Timestamp: timestamppb.New(at)}
	for i := range 8 {
		g := &gpumonv1.Gpu{Id: int32(i), MemoryTotal: 81559, Utilization: proto.Uint32(0)}
		if i < busy {
			g.MemoryUsed, g.Utilization = 40000, proto.Uint32(80)
			g.Processes = []*gpumonv1.Process{{Pid: int32(100 + i), Username: "alice", GpuMemoryUsage: 40000}}
		}
		r.GpuData = append(r.GpuData, g)
	}
	return r
}

// TestTotalsCountOnlineMachines: the header's totals are of online machines;
// an offline machine's stale GPUs are counted apart.
func TestTotalsCountOnlineMachines(t *testing.T) {
	f, c := newTestFleet()
	for i, host := range []string{"a", "b", "c"} {
		m, _ := f.Attach(hello(host, host, 1))
		f.Ingest(m, 1, gpus8(c.t, 2*i+1)) // 1, 3 and 5 busy
	}
	gone, _ := f.Get("c")
	f.Detach(gone, gone.Conn())
	var sums []*gpumonv1.MachineSummary
	for _, m := range f.List() {
		sums = append(sums, m.Summary())
	}
	got := Totals(sums)
	want := &gpumonv1.FleetTotals{Machines: 3, MachinesOnline: 2, MachinesOffline: 1, Gpus: 16, GpusOffline: 8,
		GpusBusy: 4, GpusFree: 12, GpuMemoryUsed: 4 * 40000, GpuMemoryTotal: 16 * 81559}
	if !proto.Equal(got, want) {
		t.Errorf("totals\n got %v\nwant %v", got, want)
	}
}

// TestSummaryOfAState: a summary and a report taken from one state agree,
// whatever arrived since.
func TestSummaryOfAState(t *testing.T) {
	f, c := newTestFleet()
	m, _ := f.Attach(hello("a", "a", 1))
	f.Ingest(m, 1, gpus8(c.t, 1))
	st := m.State()
	f.Ingest(m, 2, gpus8(c.t.Add(2*time.Second), 6))
	s, r := m.SummaryOf(st), RenderedOf(st)
	var used uint32
	for _, g := range r.GetGpuData() {
		used += g.GetMemoryUsed()
	}
	if s.GetGpusBusy() != 1 || s.GetGpuMemoryUsed() != used || used != 40000 {
		t.Errorf("summary of the first state: %d busy, %d MiB; its report: %d MiB", s.GetGpusBusy(), s.GetGpuMemoryUsed(), used)
	}
	if now := m.Summary(); now.GetGpusBusy() != 6 {
		t.Errorf("current summary: %d busy, want 6", now.GetGpusBusy())
	}
}

// idleReport: GPU 0 held by bob at 0 %, GPU 1 busy.
func idleReport(at time.Time) *gpumonv1.Report {
	r := gpus8(at, 2)
	r.GpuData[0].Utilization = proto.Uint32(0)
	r.GpuData[0].Processes[0].Username = "bob"
	return r
}

// TestIdleHeldOneDefinition: the card's flag (Gpu.idle_held), the summary's
// count and the usage list (IdleGPUs) say the same thing at every moment.
func TestIdleHeldOneDefinition(t *testing.T) {
	f, c := newTestFleet()
	f.SetIdleAfter(30 * time.Minute)
	m, _ := f.Attach(hello("a", "a", 1))
	start := c.t
	seq := uint64(0)
	ingest := func() {
		seq++
		f.Ingest(m, seq, idleReport(c.t))
	}
	check := func(when string, held bool, seconds float64) {
		t.Helper()
		g := m.State().Report.GetGpuData()[0]
		listed := f.IdleGPUs(false)
		if g.GetIdleHeld() != held || (m.Summary().GetGpusIdleHeld() == 1) != held || (len(listed) == 1) != held {
			t.Fatalf("%s: idle_held %v, summary %d, usage lists %d; want all to say %v",
				when, g.GetIdleHeld(), m.Summary().GetGpusIdleHeld(), len(listed), held)
		}
		if !g.GetIdleSince().AsTime().Equal(start) {
			t.Errorf("%s: idle since %s, want %s", when, g.GetIdleSince().AsTime(), start)
		}
		if all := f.IdleGPUs(true); len(all) != 1 || all[0].GetIdleSeconds() != seconds || all[0].GetUsers()[0] != "bob" {
			t.Errorf("%s: idle GPUs %v, want GPU 0 of bob idle %v s", when, all, seconds)
		}
	}
	ingest()
	check("first sample", false, 0)
	for c.t.Before(start.Add(30*time.Minute - 2*time.Second)) {
		c.advance(2 * time.Second)
		ingest()
	}
	check("29:58 in", false, 1798)
	c.advance(2 * time.Second)
	ingest()
	check("30:00 in", true, 1800)
	// Offline: a stale state is not idle-held now.
	f.Detach(m, m.Conn())
	if n := len(f.IdleGPUs(true)); n != 0 {
		t.Errorf("an offline machine's GPU listed as idle: %d", n)
	}
	// Back after ten minutes: nobody knows what happened meanwhile.
	c.advance(10 * time.Minute)
	m, _ = f.Attach(hello("a", "a", 1))
	ingest()
	g := m.State().Report.GetGpuData()[0]
	if !g.GetIdleSince().AsTime().Equal(c.t) || g.GetIdleHeld() {
		t.Errorf("after a gap: idle since %s (held %v), want since %s", g.GetIdleSince().AsTime(), g.GetIdleHeld(), c.t)
	}
}

// TestIdleHeldNotTakenFromSenders: a posted report cannot mark a GPU idle-held.
func TestIdleHeldNotTakenFromSenders(t *testing.T) {
	f, c := newTestFleet()
	r := gpus8(c.t, 8)
	r.Hostname = "legacy"
	for _, g := range r.GpuData {
		g.IdleHeld, g.IdleSince = true, timestamppb.New(c.t.Add(-time.Hour))
	}
	m := f.IngestLegacy(r)
	if s := m.Summary(); s.GetGpusIdleHeld() != 0 || len(f.IdleGPUs(true)) != 0 {
		t.Errorf("busy GPUs a report called idle: summary %d idle-held, %d listed", s.GetGpusIdleHeld(), len(f.IdleGPUs(true)))
	}
}
