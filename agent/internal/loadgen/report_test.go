package loadgen

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

var t0 = time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)

// clock is an injected clock tests move by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// A sample is the template with moving figures plus the jobs: every process
// field the template sets is copied (a field added to Process must be added
// to copyProcess), and GPU processes are the same processes as in the table.
func TestSampleCopiesTheTemplate(t *testing.T) {
	clk := &clock{t0}
	s := newSampler(mustProfile(t, "dgxh100"), 3, clk.now)
	r := s.Sample(context.Background())
	tmpl := s.template
	if len(r.GetGpuData()) != 8 || len(r.GetSystemInfo().GetProcesses()) < 300 {
		t.Fatalf("%d GPUs, %d processes", len(r.GetGpuData()), len(r.GetSystemInfo().GetProcesses()))
	}
	for i, want := range tmpl.GetSystemInfo().GetProcesses() {
		want = proto.Clone(want).(*gpumonv1.Process)
		got := proto.Clone(r.GetSystemInfo().GetProcesses()[i]).(*gpumonv1.Process)
		want.CpuPercent, got.CpuPercent = 0, 0
		if !proto.Equal(want, got) {
			t.Fatalf("process %d: got %v, want %v", i, got, want)
		}
	}
	// Every field of Process is handled by copyProcess.
	full := &gpumonv1.Process{}
	fields := full.ProtoReflect().Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		switch {
		case fd.IsList():
			full.ProtoReflect().Mutable(fd).List().Append(protoreflect.ValueOfInt32(1))
		case fd.Kind() == protoreflect.MessageKind:
			full.ProtoReflect().Mutable(fd)
		case fd.Kind() == protoreflect.StringKind:
			full.ProtoReflect().Set(fd, protoreflect.ValueOfString("x"))
		case fd.Kind() == protoreflect.BoolKind:
			full.ProtoReflect().Set(fd, protoreflect.ValueOfBool(true))
		case fd.Kind() == protoreflect.DoubleKind:
			full.ProtoReflect().Set(fd, protoreflect.ValueOfFloat64(1))
		case fd.Kind() == protoreflect.Int32Kind:
			full.ProtoReflect().Set(fd, protoreflect.ValueOfInt32(1))
		case fd.Kind() == protoreflect.Uint32Kind:
			full.ProtoReflect().Set(fd, protoreflect.ValueOfUint32(1))
		default:
			t.Fatalf("field %s of kind %s: extend this test", fd.Name(), fd.Kind())
		}
	}
	var cp gpumonv1.Process
	copyProcess(&cp, full)
	if !proto.Equal(&cp, full) {
		t.Errorf("copyProcess misses fields: got %v, want %v", &cp, full)
	}
	checkReport(t, r)
}

// checkReport checks what the hub and the page rely on: GPU processes are
// rows of the process table, a GPU's memory covers its processes', and
// every session a process names is listed.
func checkReport(t *testing.T, r *gpumonv1.Report) {
	t.Helper()
	table := r.GetSystemInfo().GetProcesses()
	sessions := map[string]bool{}
	for _, s := range append(r.GetSystemInfo().GetScreenSessions(), r.GetSystemInfo().GetTmuxSessions()...) {
		sessions[s.GetKind()+"/"+s.GetName()] = true
	}
	for _, p := range table {
		if s := p.GetSession(); s != nil && !sessions[s.GetKind()+"/"+s.GetName()] {
			t.Errorf("process %d names session %s %q, which is not listed", p.GetPid(), s.GetKind(), s.GetName())
		}
	}
	for _, g := range r.GetGpuData() {
		var sum uint32
		for _, p := range g.GetProcesses() {
			sum += p.GetGpuMemoryUsage()
			if !slices.Contains(table, p) || !p.GetIsGpuProcess() || p.GetGpuId() != g.GetId() {
				t.Errorf("GPU %d: process %v is not its row of the table", g.GetId(), p)
			}
		}
		if g.GetName() == "" || g.GetUuid() == "" || g.GetTemperature() == 0 || sum > g.GetMemoryUsed() ||
			g.GetMemoryUsed() > g.GetMemoryTotal() || g.GetMemoryUsed()+g.GetMemoryFree() != g.GetMemoryTotal() {
			t.Errorf("GPU %d: %v", g.GetId(), g)
		}
		if g.GetUtilization() > 0 && len(g.GetProcesses()) == 0 {
			t.Errorf("GPU %d busy at %d%% with no process", g.GetId(), g.GetUtilization())
		}
	}
}

// busy counts a report's GPUs with a compute process.
func busy(r *gpumonv1.Report) int {
	n := 0
	for _, g := range r.GetGpuData() {
		if slices.ContainsFunc(g.GetProcesses(), func(p *gpumonv1.Process) bool { return p.GetGpuUsageType() == "compute" }) {
			n++
		}
	}
	return n
}

// TestFleetVaries: a mixed fleet holds several kinds of machine, some mostly
// idle and some full — not 100 identical machines — and a seed redraws it.
func TestFleetVaries(t *testing.T) {
	draw := func(seed uint64) (kinds map[string]int, idle, full int, shape string) {
		kinds = map[string]int{}
		for i := range 100 {
			s := newSampler(mustProfile(t, "mixed"), machineSeed(seed, i), (&clock{t0}).now)
			r := s.Sample(context.Background())
			checkReport(t, r)
			kinds[r.GetGpuData()[0].GetName()+fmt.Sprint(len(r.GetGpuData()))]++
			switch share := float64(busy(r)) / float64(len(r.GetGpuData())); {
			case share <= 0.25:
				idle++
			case share >= 0.75:
				full++
			}
			shape += fmt.Sprintf("%d/%d ", busy(r), len(r.GetGpuData()))
		}
		return kinds, idle, full, shape
	}
	kinds, idle, full, shape := draw(1)
	t.Logf("kinds %v; %d machines mostly idle, %d mostly full", kinds, idle, full)
	if len(kinds) < 5 || idle < 10 || full < 10 {
		t.Errorf("fleet does not vary: kinds %v, %d mostly idle, %d mostly full", kinds, idle, full)
	}
	if _, _, _, again := draw(1); again != shape {
		t.Errorf("seed 1 drew another fleet:\n%s\n%s", shape, again)
	}
	if _, _, _, other := draw(2); other == shape {
		t.Error("seeds 1 and 2 drew the same fleet")
	}
}

// TestJobsComeAndGo: over two hours a machine's jobs start and end, its busy
// count moves a job at a time, and its processes and sessions follow.
func TestJobsComeAndGo(t *testing.T) {
	clk := &clock{t0}
	var s *Sampler
	for seed := uint64(1); s == nil || s.lab.Target() < 0.5; seed++ {
		s = newSampler(mustProfile(t, "dgxh100"), seed, clk.now)
	}
	pids := map[int32]bool{}
	prev, changes := -1, 0
	for ; clk.t.Before(t0.Add(2 * time.Hour)); clk.t = clk.t.Add(30 * time.Second) {
		r := s.Sample(context.Background())
		checkReport(t, r)
		b := busy(r)
		if prev >= 0 && b != prev {
			changes++
			if d := b - prev; d > 4 || d < -4 {
				t.Errorf("at %s: busy %d → %d in 30 s", clk.t.Sub(t0), prev, b)
			}
		}
		prev = b
		for _, g := range r.GetGpuData() {
			for _, p := range g.GetProcesses() {
				pids[p.GetPid()] = true
			}
		}
	}
	t.Logf("in two hours: %d changes of the busy count, %d GPU processes", changes, len(pids))
	if changes < 3 || changes > 60 || len(pids) < 8 {
		t.Errorf("in two hours: %d changes of the busy count, %d GPU processes", changes, len(pids))
	}
}

func BenchmarkSample(b *testing.B) {
	for _, name := range []string{"dgxh100", "mixed"} {
		b.Run(name, func(b *testing.B) {
			s := NewSampler(mustProfile(b, name), 1)
			b.ReportAllocs()
			for b.Loop() {
				s.Sample(context.Background())
			}
		})
	}
}

func mustProfile(t testing.TB, name string) Profile {
	t.Helper()
	p, ok := LookupProfile(name)
	if !ok {
		t.Fatalf("no profile %q", name)
	}
	return p
}
