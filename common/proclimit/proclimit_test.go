package proclimit

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// report lists n processes: every tenth uses a GPU, CPU % rises with the
// PID, and each has a command line of cmdline bytes.
func report(n, cmdline int) *gpumonv1.Report {
	r := &gpumonv1.Report{Hostname: "big", SystemInfo: &gpumonv1.SystemInfo{}}
	for i := range n {
		r.SystemInfo.Processes = append(r.SystemInfo.Processes, &gpumonv1.Process{
			Pid: int32(i + 1), Name: "p", Cmdline: strings.Repeat("x", cmdline),
			CpuPercent: float64(i % 100), IsGpuProcess: i%10 == 0, Rss: float64(i),
		})
	}
	return r
}

func TestCutKeepsGPUProcessesThenTheBusiest(t *testing.T) {
	r := report(300, 10)
	if d := Cut(r, 100); d != 200 {
		t.Fatalf("dropped %d, want 200", d)
	}
	got := r.GetSystemInfo().GetProcesses()
	if len(got) != 100 {
		t.Fatalf("kept %d processes, want 100", len(got))
	}
	gpu := 0
	for i, p := range got {
		if i > 0 && got[i-1].GetPid() >= p.GetPid() {
			t.Fatalf("order changed: pid %d after %d", p.GetPid(), got[i-1].GetPid())
		}
		if p.GetIsGpuProcess() {
			gpu++
			continue
		}
		// 30 GPU processes, then the 70 busiest: CPU % 70..99 (less the
		// GPU ones' 70, 80, 90) at three PIDs each is 81 > 70, so every kept
		// one is at 72 % or more.
		if p.GetCpuPercent() < 72 {
			t.Errorf("pid %d at %.0f %% kept over busier ones", p.GetPid(), p.GetCpuPercent())
		}
	}
	if gpu != 30 {
		t.Errorf("%d GPU processes kept, want all 30", gpu)
	}
}

func TestCutWithinTheLimitChangesNothing(t *testing.T) {
	for _, n := range []int{0, -1, 300, 301} {
		r := report(300, 10)
		want := proto.Clone(r)
		if d := Cut(r, n); d != 0 || !proto.Equal(r, want) {
			t.Errorf("Cut(%d) dropped %d or changed the report", n, d)
		}
		if d, ok := Limit(r, n, proto.Size(r)); d != 0 || !ok || !proto.Equal(r, want) {
			t.Errorf("Limit(%d, its size) dropped %d (ok %v) or changed the report", n, d, ok)
		}
	}
}

func TestLimitFitsTheByteLimitAndSaysSo(t *testing.T) {
	for _, max := range []int{20 << 10, 64 << 10, 100 << 10} {
		r := report(1000, 200) // ~215 KB
		d, ok := Limit(r, 0, max)
		if !ok || d == 0 {
			t.Fatalf("max %d: dropped %d, ok %v", max, d, ok)
		}
		if n := proto.Size(r); n > max {
			t.Errorf("max %d: report still %d bytes", max, n)
		}
		kept := len(r.GetSystemInfo().GetProcesses())
		if kept+d != 1000 {
			t.Errorf("max %d: kept %d + dropped %d != 1000", max, kept, d)
		}
		// Not cut much further than needed: one more process would not fit.
		if n := proto.Size(r); max-n > 2*300 {
			t.Errorf("max %d: %d bytes left unused", max, max-n)
		}
		want := fmt.Sprintf("%d of 1000 processes listed (the hub takes at most %d bytes per report)", kept, max)
		if len(r.Collectors) != 1 || !strings.HasPrefix(r.Collectors[0].GetMessage(), want) || r.Collectors[0].GetName() != Collector {
			t.Errorf("max %d: collectors %v, want a process status starting %q", max, r.Collectors, want)
		}
	}
}

// A list cut to the process cap whose report is then just under the byte
// cap still fits once the cut is noted: the note's bytes count too.
func TestLimitLeavesRoomForItsNote(t *testing.T) {
	cut := report(300, 100)
	Cut(cut, 50)
	for _, spare := range []int{0, 10, 100} {
		r := report(300, 100)
		max := proto.Size(cut) + spare
		d, ok := Limit(r, 50, max)
		if !ok || d < 250 || proto.Size(r) > max {
			t.Errorf("%d bytes spare: dropped %d, ok %v, %d bytes over a cap of %d", spare, d, ok, proto.Size(r), max)
		}
		if msg := r.Collectors[0].GetMessage(); !strings.Contains(msg, "at most 50 processes and at most") {
			t.Errorf("%d bytes spare: note %q, want both caps named", spare, msg)
		}
	}
}

func TestLimitKeepsTheCollectorsOwnMessage(t *testing.T) {
	r := report(50, 10)
	r.Collectors = []*gpumonv1.CollectorStatus{{Name: "gpu"}, {Name: Collector, State: gpumonv1.CollectorState_COLLECTOR_STATE_ERROR, Message: "cannot read /proc/1/stat"}}
	if d, ok := Limit(r, 20, 0); d != 30 || !ok {
		t.Fatalf("dropped %d, ok %v", d, ok)
	}
	got := r.Collectors[1]
	want := "cannot read /proc/1/stat; 20 of 50 processes listed (the hub takes at most 20 processes per report)"
	if len(r.Collectors) != 2 || got.GetState() != gpumonv1.CollectorState_COLLECTOR_STATE_ERROR || !strings.HasPrefix(got.GetMessage(), want) {
		t.Errorf("process status %v, want ERROR with a message starting %q", got, want)
	}
}

func TestLimitCannotFitWhatIsNotProcesses(t *testing.T) {
	r := report(10, 10)
	r.DriverVersion = strings.Repeat("v", 4096)
	if _, ok := Limit(r, 0, 1024); ok {
		t.Errorf("a report of %d bytes without its processes said to fit in 1024", proto.Size(r))
	}
	for _, r := range []*gpumonv1.Report{
		{DriverVersion: strings.Repeat("v", 4096)},
		{DriverVersion: strings.Repeat("v", 4096), SystemInfo: &gpumonv1.SystemInfo{}},
	} {
		if d, ok := Limit(r, 5, 1024); d != 0 || ok {
			t.Errorf("a report of %d bytes with no process: dropped %d, fits %v", proto.Size(r), d, ok)
		}
	}
	if d, ok := Limit(nil, 5, 1024); d != 0 || !ok {
		t.Errorf("no report: dropped %d, fits %v", d, ok)
	}
}

// FuzzLimit: whatever the list and the caps, Limit never panics, keeps
// within the caps when it says so, counts what it dropped, and never keeps
// a process using no GPU while dropping one that uses a GPU.
func FuzzLimit(f *testing.F) {
	f.Add(uint16(300), uint16(100), 50, uint32(8000), uint8(10), "")
	f.Add(uint16(0), uint16(0), 0, uint32(10), uint8(0), strings.Repeat("v", 100))
	f.Add(uint16(5), uint16(4000), -3, uint32(0), uint8(1), "x")
	f.Fuzz(func(t *testing.T, n, cmdline uint16, maxProcs int, maxBytes uint32, gpuEvery uint8, driver string) {
		r := report(int(n%2000), int(cmdline%4096))
		for i, p := range r.GetSystemInfo().GetProcesses() {
			p.IsGpuProcess = gpuEvery > 0 && i%int(gpuEvery) == 0
			if cmdline%2 == 1 && i%3 == 0 {
				p.CpuPercent = math.NaN() // an agent cuts before the hub cleans figures
			}
		}
		if n%7 == 0 {
			r.SystemInfo = nil
		}
		r.DriverVersion = driver
		total := len(r.GetSystemInfo().GetProcesses())
		gpus := 0
		for _, p := range r.GetSystemInfo().GetProcesses() {
			if p.GetIsGpuProcess() {
				gpus++
			}
		}
		dropped, ok := Limit(r, maxProcs, int(maxBytes%(1<<20)))
		procs := r.GetSystemInfo().GetProcesses()
		if dropped != total-len(procs) {
			t.Fatalf("dropped %d, but %d of %d remain", dropped, len(procs), total)
		}
		if maxProcs > 0 && len(procs) > maxProcs {
			t.Fatalf("%d processes kept over a cap of %d", len(procs), maxProcs)
		}
		if b := int(maxBytes % (1 << 20)); ok && b > 0 && proto.Size(r) > b {
			t.Fatalf("said to fit in %d bytes, is %d", b, proto.Size(r))
		}
		keptGPU, keptOther := 0, 0
		for _, p := range procs {
			if p.GetIsGpuProcess() {
				keptGPU++
			} else {
				keptOther++
			}
		}
		if keptOther > 0 && keptGPU < gpus {
			t.Fatalf("kept %d processes using no GPU while dropping %d of %d using one", keptOther, gpus-keptGPU, gpus)
		}
	})
}

// longest is a process with every field at its longest encoding: negative
// numbers (ten-byte varints), the largest unsigned ones, long strings and
// lists, a session, and unknown fields.
func longest() *gpumonv1.Process {
	p := &gpumonv1.Process{}
	m := p.ProtoReflect()
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		var v protoreflect.Value
		switch fd.Kind() {
		case protoreflect.Int32Kind:
			v = protoreflect.ValueOfInt32(math.MinInt32)
		case protoreflect.Uint32Kind:
			v = protoreflect.ValueOfUint32(math.MaxUint32)
		case protoreflect.DoubleKind:
			v = protoreflect.ValueOfFloat64(math.MaxFloat64)
		case protoreflect.BoolKind:
			v = protoreflect.ValueOfBool(true)
		case protoreflect.StringKind:
			v = protoreflect.ValueOfString(strings.Repeat("é", 500))
		case protoreflect.MessageKind:
			sub := m.NewField(fd).Message()
			sf := sub.Descriptor().Fields()
			for j := range sf.Len() {
				sub.Set(sf.Get(j), protoreflect.ValueOfString(strings.Repeat("s", 300)))
			}
			sub.SetUnknown(protowire.AppendBytes(protowire.AppendTag(nil, 99, protowire.BytesType), make([]byte, 40)))
			v = protoreflect.ValueOfMessage(sub)
		default:
			panic("a kind longest does not know: " + fd.Kind().String())
		}
		if fd.IsList() {
			l := m.Mutable(fd).List()
			for range 20 {
				l.Append(v)
			}
			continue
		}
		m.Set(fd, v)
	}
	m.SetUnknown(protowire.AppendBytes(protowire.AppendTag(nil, 1999, protowire.BytesType), make([]byte, 70)))
	return p
}

// TestProcessAtMost: the bound holds for a process with every field at its
// longest (a field added to Process and left out of processAtMost fails
// here, a string or list one surely), and for each field alone.
func TestProcessAtMost(t *testing.T) {
	p := longest()
	if b, n := processAtMost(p), proto.Size(p); b < n {
		t.Fatalf("bound %d under the size %d of a process at its longest", b, n)
	}
	fields := p.ProtoReflect().Descriptor().Fields()
	for i := range fields.Len() {
		one := &gpumonv1.Process{}
		one.ProtoReflect().Set(fields.Get(i), p.ProtoReflect().Get(fields.Get(i)))
		if b, n := processAtMost(one), proto.Size(one); b < n {
			t.Errorf("%s alone: bound %d under the size %d", fields.Get(i).Name(), b, n)
		}
	}
}

// TestSizeAtMost: the report's bound holds and leaves the report as it was;
// it is over the size by at most 200 bytes a process, so Limit spares the
// exact size of a report unless that is close to the limit.
func TestSizeAtMost(t *testing.T) {
	for _, r := range []*gpumonv1.Report{
		report(300, 90), report(0, 0), {Hostname: "h"},
		{SystemInfo: &gpumonv1.SystemInfo{Processes: []*gpumonv1.Process{longest(), longest(), {}}}, GpuData: []*gpumonv1.Gpu{{Processes: []*gpumonv1.Process{longest()}}}},
		{SystemInfo: &gpumonv1.SystemInfo{Processes: []*gpumonv1.Process{{Pid: 1, Name: "a"}, nil}}}, // a nil entry is an empty message
	} {
		before := proto.Clone(r)
		b, n := sizeAtMost(r), proto.Size(r)
		if b < n {
			t.Errorf("bound %d under the size %d", b, n)
		}
		if !proto.Equal(r, before) {
			t.Error("sizing changed the report")
		}
	}
	if b, n := sizeAtMost(report(300, 90)), proto.Size(report(300, 90)); b > n+200*300 {
		t.Errorf("bound %d of a 300-process report is over its size %d by more than 200 bytes a process", b, n)
	}
}
