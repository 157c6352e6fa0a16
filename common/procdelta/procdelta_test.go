package procdelta

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// everyField is a process with every field set, so that a field added to
// Process later and left out of static and moving fails the round trip.
func everyField(pid int32) *gpumonv1.Process {
	p := &gpumonv1.Process{}
	m := p.ProtoReflect()
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		switch {
		case fd.IsList():
			m.Mutable(fd).List().Append(protoreflect.ValueOfInt32(3))
		case fd.Kind() == protoreflect.MessageKind:
			sm := m.Mutable(fd).Message()
			sf := sm.Descriptor().Fields()
			for j := range sf.Len() {
				sm.Set(sf.Get(j), protoreflect.ValueOfString("x"))
			}
		case fd.Kind() == protoreflect.StringKind:
			m.Set(fd, protoreflect.ValueOfString("s-"+string(fd.Name())))
		case fd.Kind() == protoreflect.BoolKind:
			m.Set(fd, protoreflect.ValueOfBool(true))
		case fd.Kind() == protoreflect.DoubleKind:
			m.Set(fd, protoreflect.ValueOfFloat64(1.5))
		case fd.Kind() == protoreflect.Int32Kind:
			m.Set(fd, protoreflect.ValueOfInt32(7))
		case fd.Kind() == protoreflect.Uint32Kind:
			m.Set(fd, protoreflect.ValueOfUint32(9))
		default:
			panic(fmt.Sprintf("no value for %s", fd.Kind()))
		}
	}
	p.Pid = pid
	return p
}

// randomSnapshot is a machine's processes at step: some stay, some end,
// PIDs come back with another start time, command lines change, GPU
// processes are the system's processes with GPU figures.
func randomSnapshot(rng *rand.Rand, seq uint64, pids []int32) *gpumonv1.Snapshot {
	r := &gpumonv1.Report{Hostname: "h", SystemInfo: &gpumonv1.SystemInfo{CpuPercent: 3}}
	for _, pid := range pids {
		p := everyField(pid)
		p.CpuPercent = rng.Float64() * 100
		p.Status = []string{"running", "sleeping"}[rng.IntN(2)]
		p.CreateTime = float64(pid%3) + float64(rng.IntN(2)) // start time changes now and then: PID reused
		if rng.IntN(10) == 0 {
			p.Cmdline = fmt.Sprintf("python train.py --step %d", rng.IntN(3))
		}
		r.SystemInfo.Processes = append(r.SystemInfo.Processes, p)
	}
	for g := range 3 {
		gpu := &gpumonv1.Gpu{Id: int32(g)}
		for _, p := range r.SystemInfo.Processes {
			if rng.IntN(8) == 0 {
				gp := proto.Clone(p).(*gpumonv1.Process)
				gp.GpuMemoryUsage = uint32(rng.IntN(80000))
				gpu.Processes = append(gpu.Processes, gp)
			}
		}
		r.GpuData = append(r.GpuData, gpu)
	}
	return &gpumonv1.Snapshot{Seq: seq, Report: r}
}

// TestRoundTrip: over a long run of changing snapshots, what the decoder
// rebuilds is exactly what the encoder was given, and steady snapshots carry
// few static facts.
func TestRoundTrip(t *testing.T) {
	for _, columns := range []bool{false, true} {
		t.Run(fmt.Sprintf("columns=%v", columns), func(t *testing.T) { testRoundTrip(t, columns) })
	}
}

func testRoundTrip(t *testing.T, columns bool) {
	rng := rand.New(rand.NewPCG(4, 9))
	enc := Encoder{Columns: columns}
	dec := Decoder{Max: 1000}
	told := 0 // figures told as columns
	pids := []int32{1, 2, 3, 4, 5}
	full, facts := 0, 0
	for seq := uint64(1); seq <= 500; seq++ {
		if rng.IntN(3) == 0 {
			pids = append(pids, int32(rng.IntN(60)+1))
		}
		if rng.IntN(3) == 0 && len(pids) > 1 {
			i := rng.IntN(len(pids))
			pids = append(pids[:i], pids[i+1:]...)
		}
		s := randomSnapshot(rng, seq, uniq(pids))
		if seq%50 == 0 { // one PID twice with other facts: cannot be a delta
			dup := proto.Clone(s.Report.SystemInfo.Processes[0]).(*gpumonv1.Process)
			dup.Cmdline = "other"
			s.Report.SystemInfo.Processes = append(s.Report.SystemInfo.Processes, dup)
		}
		want := proto.Clone(s).(*gpumonv1.Snapshot)
		if !enc.Encode(s) {
			full++
			if !proto.Equal(s, want) {
				t.Fatalf("seq %d: a snapshot that is not a delta was changed", seq)
			}
		} else {
			facts += len(s.Processes.GetFacts())
			told += len(s.Processes.GetColumns().GetCpuPercentAt())
			if seq%7 == 0 { // figures in another order than the processes: still the same report
				ch := s.Processes.Changed
				rng.Shuffle(len(ch), func(i, j int) { ch[i], ch[j] = ch[j], ch[i] })
			}
		}
		overTheWire(t, s, &dec, want)
	}
	if full != 10 {
		t.Errorf("%d full snapshots, want the 10 that have one PID twice", full)
	}
	if columns != (told > 0) {
		t.Errorf("%d CPU figures told as columns", told)
	}
	t.Logf("%d static facts sent over 490 deltas, %d CPU figures as columns", facts, told)
}

// TestPIDTwiceInOrder: a delta (not from Encoder, which never lists a PID
// twice) naming one process twice gives it its new figures both times, as
// the same process, wherever its figures come in the delta (last ones
// win when they come twice).
func TestPIDTwiceInOrder(t *testing.T) {
	for _, tc := range []struct {
		name    string
		order   []int32
		changed []*gpumonv1.Process
		want    float64
		columns *gpumonv1.FigureColumns
	}{
		{"twice", []int32{7, 7}, []*gpumonv1.Process{{Pid: 7, CpuPercent: 2}}, 2, nil},
		{"three times", []int32{7, 7, 7}, []*gpumonv1.Process{{Pid: 7, CpuPercent: 2}}, 2, nil},
		{"figures after another's", []int32{7, 8, 7}, []*gpumonv1.Process{{Pid: 8, CpuPercent: 2}, {Pid: 7, CpuPercent: 2}}, 2, nil},
		{"figures twice", []int32{7, 7}, []*gpumonv1.Process{{Pid: 7, CpuPercent: 39}, {Pid: 7, CpuPercent: 85}}, 85, nil},
		{"unchanged", []int32{7, 8, 7}, []*gpumonv1.Process{{Pid: 8, CpuPercent: 2}}, 1, nil},
		{"column", []int32{7, 7}, nil, 3, &gpumonv1.FigureColumns{CpuPercentAt: []uint32{0}, CpuPercent: []float64{3}}},
		{"column at the second place", []int32{7, 8, 7}, nil, 4, &gpumonv1.FigureColumns{CpuPercentAt: []uint32{2}, CpuPercent: []float64{4}}},
		{"column on figures", []int32{8, 7, 7}, []*gpumonv1.Process{{Pid: 7, CpuPercent: 2}}, 5, &gpumonv1.FigureColumns{CpuPercentAt: []uint32{1}, CpuPercent: []float64{5}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dec := Decoder{}
			first := &gpumonv1.Snapshot{Seq: 1, Report: &gpumonv1.Report{SystemInfo: &gpumonv1.SystemInfo{}}, Processes: &gpumonv1.ProcessDelta{
				Facts:   []*gpumonv1.Process{{Pid: 7, Name: "python"}, {Pid: 8, Name: "bash"}},
				Changed: []*gpumonv1.Process{{Pid: 7, CpuPercent: 1}, {Pid: 8, CpuPercent: 1}}, Order: []int32{7, 8}}}
			if err := dec.Decode(first); err != nil {
				t.Fatal(err)
			}
			s := &gpumonv1.Snapshot{Seq: 2, Report: &gpumonv1.Report{SystemInfo: &gpumonv1.SystemInfo{}}, Processes: &gpumonv1.ProcessDelta{
				Changed: tc.changed, Order: tc.order, Columns: tc.columns}}
			firstSeven := first.Report.SystemInfo.Processes[0]
			if err := dec.Decode(s); err != nil {
				t.Fatal(err)
			}
			var seven *gpumonv1.Process
			for i, p := range s.Report.SystemInfo.Processes {
				if p.Pid != 7 {
					continue
				}
				if p.CpuPercent != tc.want || p.Name != "python" {
					t.Errorf("position %d: %v, want CPU %v with the facts", i, p, tc.want)
				}
				if seven != nil && p != seven {
					t.Errorf("position %d: another process than the first time", i)
				}
				seven = p
			}
			if firstSeven.CpuPercent != 1 {
				t.Errorf("the first report's process changed: %v", firstSeven)
			}
		})
	}
}

// TestDeltasStayAsEncoded: a delta is not changed by later encoding (the
// encoder updates in place only figures no delta holds), so a stream may
// send it late.
func TestDeltasStayAsEncoded(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 2))
	enc := Encoder{Columns: true}
	var encoded, want []*gpumonv1.Snapshot
	for seq := uint64(1); seq <= 100; seq++ {
		s := randomSnapshot(rng, seq, []int32{1, 2, 3, 4, 5, 6})
		if !enc.Encode(s) {
			t.Fatalf("seq %d: not a delta", seq)
		}
		encoded, want = append(encoded, s), append(want, proto.CloneOf(s))
	}
	for i := range encoded {
		if !proto.Equal(encoded[i], want[i]) {
			t.Fatalf("seq %d changed after later snapshots were encoded", i+1)
		}
	}
}

// TestCopyProcessCopiesEveryField: a copy has every field of the process,
// unknown fields included.
func TestCopyProcessCopiesEveryField(t *testing.T) {
	p := everyField(5)
	p.ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 1))
	c := copyProcess(p)
	if !proto.Equal(c, p) {
		t.Fatalf("copy\n%v\nof\n%v", c, p)
	}
	if c == p {
		t.Fatal("not a copy")
	}
}

// overTheWire is s sent, received and rebuilt by dec; it must be want.
func overTheWire(t *testing.T, s *gpumonv1.Snapshot, dec *Decoder, want *gpumonv1.Snapshot) *gpumonv1.Snapshot {
	t.Helper()
	wire, err := proto.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	got := new(gpumonv1.Snapshot)
	if err := proto.Unmarshal(wire, got); err != nil {
		t.Fatal(err)
	}
	if err := dec.Decode(got); err != nil {
		t.Fatalf("seq %d: %v", s.GetSeq(), err)
	}
	if !proto.Equal(got, want) {
		t.Fatalf("seq %d: rebuilt\n%v\nwant\n%v", s.GetSeq(), got, want)
	}
	return got
}

func uniq(pids []int32) []int32 {
	seen := map[int32]bool{}
	var out []int32
	for _, p := range pids {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// TestSteadyDeltaIsSmall: a machine whose 300 processes keep running, 20 of
// them busy (their CPU % moves every sample), sends a tenth of the bytes or
// less once its static facts went out.
func TestSteadyDeltaIsSmall(t *testing.T) {
	var enc Encoder
	mk := func(seq uint64) *gpumonv1.Snapshot {
		r := &gpumonv1.Report{Hostname: "h", SystemInfo: &gpumonv1.SystemInfo{}}
		for i := range 300 {
			r.SystemInfo.Processes = append(r.SystemInfo.Processes, &gpumonv1.Process{
				Pid: int32(1000 + i), Ppid: 1, Name: "python", Username: "alice", Status: "sleeping", CreateTime: 1764300000 + float64(i),
				Cmdline:       fmt.Sprintf("python train.py --config configs/exp-%03d.yaml --lr 3e-4 --batch-size 64 --output /data/alice/runs/%d", i, i),
				MemoryPercent: 0.25, Rss: 1 << 30,
			})
			if i < 20 {
				r.SystemInfo.Processes[i].CpuPercent = float64(seq%7) + 0.5
			}
		}
		return &gpumonv1.Snapshot{Seq: seq, Report: r}
	}
	first, second := mk(1), mk(2)
	fullBytes := proto.Size(first)
	enc.Encode(first)
	enc.Encode(second)
	if n := proto.Size(second); n*10 > fullBytes {
		t.Errorf("steady delta %d bytes, full snapshot %d: not 10× fewer", n, fullBytes)
	} else {
		t.Logf("full %d bytes, steady delta %d bytes (%.0f× fewer)", fullBytes, n, float64(fullBytes)/float64(n))
	}
}

// TestCleanedOnArrivalAndShared: with Clean, every rebuilt process is
// clean (facts and figures cleaned as they arrive); a process the delta
// does not touch is the last report's message, and no later decode changes
// a report already rebuilt.
func TestCleanedOnArrivalAndShared(t *testing.T) {
	for _, columns := range []bool{false, true} {
		t.Run(fmt.Sprintf("columns=%v", columns), func(t *testing.T) { testCleanedOnArrivalAndShared(t, columns) })
	}
}

func testCleanedOnArrivalAndShared(t *testing.T, columns bool) {
	figure := func(f float64) float64 {
		if math.IsNaN(f) {
			return 0
		}
		return f
	}
	clean := func(p *gpumonv1.Process) {
		p.Cmdline = strings.ToUpper(p.Cmdline)
		if math.IsNaN(p.CpuPercent) {
			p.CpuPercent = 0
		}
	}
	cleaned := func(s *gpumonv1.Snapshot) *gpumonv1.Snapshot {
		s = proto.CloneOf(s)
		for _, p := range s.Report.SystemInfo.Processes {
			clean(p)
		}
		for _, g := range s.Report.GpuData {
			for _, p := range g.Processes {
				clean(p)
			}
		}
		return s
	}
	rng := rand.New(rand.NewPCG(7, 1))
	procs := map[int32]*gpumonv1.Process{}
	for pid := range int32(40) {
		procs[pid+1] = &gpumonv1.Process{Pid: pid + 1, Name: "python", Cmdline: fmt.Sprintf("python run.py --n %d", pid), CpuPercent: 1}
	}
	enc := Encoder{Columns: columns}
	dec := Decoder{Max: 1000, Clean: clean, Figure: figure}
	var rebuilt, want []*gpumonv1.Snapshot
	shared := 0
	for seq := uint64(1); seq <= 200; seq++ {
		for pid, p := range procs { // a few move, now and then one's command line changes, or reads NaN
			switch rng.IntN(20) {
			case 0:
				p.CpuPercent = rng.Float64() * 100
			case 1:
				p.Cmdline = fmt.Sprintf("python run.py --n %d --step %d", pid, seq)
			case 2:
				p.CpuPercent = math.NaN()
			}
		}
		r := &gpumonv1.Report{Hostname: "h", SystemInfo: &gpumonv1.SystemInfo{}, GpuData: []*gpumonv1.Gpu{{Id: 0}}}
		for pid := range int32(40) {
			r.SystemInfo.Processes = append(r.SystemInfo.Processes, proto.CloneOf(procs[pid+1]))
		}
		r.GpuData[0].Processes = []*gpumonv1.Process{proto.CloneOf(procs[1])}
		s := &gpumonv1.Snapshot{Seq: seq, Report: r}
		w := cleaned(s)
		if !enc.Encode(s) {
			t.Fatalf("seq %d: not a delta", seq)
		}
		got := overTheWire(t, s, &dec, w)
		if n := len(rebuilt); n > 0 {
			for i, p := range got.Report.SystemInfo.Processes {
				if p == rebuilt[n-1].Report.SystemInfo.Processes[i] {
					shared++
				}
			}
		}
		rebuilt, want = append(rebuilt, got), append(want, w)
	}
	for i := range rebuilt {
		if !proto.Equal(rebuilt[i], want[i]) {
			t.Fatalf("seq %d changed after later snapshots were decoded", i+1)
		}
	}
	if shared == 0 {
		t.Error("no process was shared with the last report")
	}
	for pid, k := range dec.procs {
		if k.last != nil && k.facts != k.last {
			t.Fatalf("pid %d: the decoder keeps its facts beside the last report's process", pid)
		}
	}
	t.Logf("%d of %d processes shared with the last report", shared, 199*40)
}

// TestFactsOfAProcessOffTheSystemList: a GPU process the agent left off
// its system list for one snapshot (its list cut) changes its static facts
// meanwhile, which travel with the GPU's list; back on the system list with
// the same figures, it has its new facts, not the last report's.
func TestFactsOfAProcessOffTheSystemList(t *testing.T) {
	for _, columns := range []bool{false, true} {
		t.Run(fmt.Sprintf("columns=%v", columns), func(t *testing.T) { testFactsOfAProcessOffTheSystemList(t, columns) })
	}
}

func testFactsOfAProcessOffTheSystemList(t *testing.T, columns bool) {
	proc := func(ppid int32) *gpumonv1.Process {
		return &gpumonv1.Process{Pid: 42, Name: "python", Ppid: ppid, Status: "sleeping", IsGpuProcess: true, GpuMemoryUsage: 100, GpuId: proto.Int32(0)}
	}
	snap := func(seq uint64, ppid int32, listed bool) *gpumonv1.Snapshot {
		r := &gpumonv1.Report{SystemInfo: &gpumonv1.SystemInfo{}, GpuData: []*gpumonv1.Gpu{{Id: 0, Processes: []*gpumonv1.Process{proc(ppid)}}}}
		if listed {
			r.SystemInfo.Processes = []*gpumonv1.Process{proc(ppid)}
		}
		return &gpumonv1.Snapshot{Seq: seq, Report: r}
	}
	enc := Encoder{Columns: columns}
	dec := Decoder{Max: 100}
	for _, s := range []*gpumonv1.Snapshot{snap(1, 1234, true), snap(2, 1, false), snap(3, 1, true), snap(4, 1, true)} {
		for _, p := range s.Report.SystemInfo.GetProcesses() {
			p.CpuPercent = float64(s.Seq) // a figure a column carries
		}
		want := proto.CloneOf(s)
		if !enc.Encode(s) {
			t.Fatalf("seq %d: not a delta", s.Seq)
		}
		overTheWire(t, s, &dec, want)
	}
}

// TestEndedAreTold: each delta tells, in Ended, exactly the processes the
// stream carried that its snapshot no longer lists (on the system list or
// a GPU's), and the encoder keeps nothing of them, snapshots that cannot be
// deltas in between included; so the hub's decoder keeps what is running.
func TestEndedAreTold(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 5))
	enc := Encoder{Columns: true}
	carried := map[int32]bool{} // PIDs whose facts the stream carried and did not end
	pids := []int32{1, 2, 3, 4, 5}
	for seq := uint64(1); seq <= 400; seq++ {
		for range rng.IntN(4) {
			pids = append(pids, int32(rng.IntN(40)+1))
		}
		for range rng.IntN(4) {
			if len(pids) > 1 {
				i := rng.IntN(len(pids))
				pids = append(pids[:i], pids[i+1:]...)
			}
		}
		s := randomSnapshot(rng, seq, uniq(pids))
		if seq%9 == 0 { // cannot be a delta: its new PIDs' entries must go too
			dup := proto.Clone(s.Report.SystemInfo.Processes[0]).(*gpumonv1.Process)
			dup.Cmdline = "other"
			s.Report.SystemInfo.Processes = append(s.Report.SystemInfo.Processes, plainProcess(int32(100+seq)), dup)
			if enc.Encode(s) {
				t.Fatalf("seq %d: a PID twice with other facts was told as a delta", seq)
			}
			continue
		}
		listed := map[int32]bool{}
		for _, p := range s.Report.SystemInfo.Processes {
			listed[p.Pid] = true
		}
		for _, g := range s.Report.GpuData {
			for _, p := range g.Processes {
				listed[p.Pid] = true
			}
		}
		if !enc.Encode(s) {
			t.Fatalf("seq %d: not a delta", seq)
		}
		for _, pid := range s.Processes.Ended {
			if !carried[pid] || listed[pid] {
				t.Fatalf("seq %d: PID %d told as ended (carried %v, listed %v)", seq, pid, carried[pid], listed[pid])
			}
			delete(carried, pid)
		}
		for _, f := range s.Processes.Facts {
			carried[f.Pid] = true
		}
		for pid := range carried {
			if !listed[pid] {
				t.Fatalf("seq %d: PID %d is no longer listed and was not told as ended", seq, pid)
			}
		}
		if len(enc.procs) != len(listed) {
			t.Fatalf("seq %d: the encoder keeps %d processes for %d listed", seq, len(enc.procs), len(listed))
		}
	}
}

func plainProcess(pid int32) *gpumonv1.Process {
	return &gpumonv1.Process{Pid: pid, Name: "new", Cmdline: "new"}
}

func TestDecodeRefuses(t *testing.T) {
	delta := func(d *gpumonv1.ProcessDelta, r *gpumonv1.Report) *gpumonv1.Snapshot {
		return &gpumonv1.Snapshot{Seq: 1, Report: r, Processes: d}
	}
	sys := func() *gpumonv1.Report { return &gpumonv1.Report{SystemInfo: &gpumonv1.SystemInfo{}} }
	for _, tt := range []struct {
		name string
		s    *gpumonv1.Snapshot
		want error
	}{
		{"unknown pid", delta(&gpumonv1.ProcessDelta{Order: []int32{9}}, sys()), ErrUnknownPID},
		{"facts without figures", delta(&gpumonv1.ProcessDelta{Facts: []*gpumonv1.Process{{Pid: 9}}, Order: []int32{9}}, sys()), ErrUnknownPID},
		{"no report", delta(&gpumonv1.ProcessDelta{}, nil), ErrMalformed},
		{"processes without system info", delta(&gpumonv1.ProcessDelta{Order: []int32{9}}, &gpumonv1.Report{}), ErrMalformed},
		{"processes twice", delta(&gpumonv1.ProcessDelta{}, &gpumonv1.Report{SystemInfo: &gpumonv1.SystemInfo{Processes: []*gpumonv1.Process{{Pid: 1}}}}), ErrMalformed},
		{"GPU lists do not match GPUs", delta(&gpumonv1.ProcessDelta{Gpus: []*gpumonv1.GpuProcesses{{}}}, sys()), ErrMalformed},
		{"too many facts", delta(&gpumonv1.ProcessDelta{Facts: []*gpumonv1.Process{{Pid: 1}, {Pid: 2}, {Pid: 3}}}, sys()), ErrTooMany},
		{"column past the order", delta(&gpumonv1.ProcessDelta{Facts: []*gpumonv1.Process{{Pid: 1}}, Changed: []*gpumonv1.Process{{Pid: 1}}, Order: []int32{1},
			Columns: &gpumonv1.FigureColumns{RssAt: []uint32{1}, Rss: []float64{5}}}, sys()), ErrMalformed},
		{"more positions than values", delta(&gpumonv1.ProcessDelta{Facts: []*gpumonv1.Process{{Pid: 1}}, Changed: []*gpumonv1.Process{{Pid: 1}}, Order: []int32{1},
			Columns: &gpumonv1.FigureColumns{CpuPercentAt: []uint32{0, 0}, CpuPercent: []float64{5}}}, sys()), ErrMalformed},
		{"more values than positions", delta(&gpumonv1.ProcessDelta{Facts: []*gpumonv1.Process{{Pid: 1}}, Changed: []*gpumonv1.Process{{Pid: 1}}, Order: []int32{1},
			Columns: &gpumonv1.FigureColumns{MemoryPercentAt: []uint32{0}, MemoryPercent: []float64{5, 6}}}, sys()), ErrMalformed},
		{"columns without processes", delta(&gpumonv1.ProcessDelta{Columns: &gpumonv1.FigureColumns{CpuPercentAt: []uint32{0}, CpuPercent: []float64{5}}}, sys()), ErrMalformed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := Decoder{Max: 2}
			if err := d.Decode(tt.s); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// TestSameMovingIsProtoEqual: the encoder's field-by-field comparison of
// moving figures agrees with proto.Equal on every field of Process changed
// alone (a moving field added later and left out of sameMoving fails), and
// on NaN.
func TestSameMovingIsProtoEqual(t *testing.T) {
	base := everyField(5)
	m := moving(base)
	if !sameMoving(base, m) || sameMoving(base, nil) {
		t.Fatal("a process against its own figures, or against none")
	}
	fields := base.ProtoReflect().Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		q := proto.Clone(base).(*gpumonv1.Process)
		qm := q.ProtoReflect()
		switch {
		case fd.IsList():
			qm.Mutable(fd).List().Append(protoreflect.ValueOfInt32(4))
		case fd.Kind() == protoreflect.MessageKind:
			qm.Clear(fd)
		case fd.Kind() == protoreflect.StringKind:
			qm.Set(fd, protoreflect.ValueOfString("other"))
		case fd.Kind() == protoreflect.BoolKind:
			qm.Set(fd, protoreflect.ValueOfBool(false))
		case fd.Kind() == protoreflect.DoubleKind:
			qm.Set(fd, protoreflect.ValueOfFloat64(2.5))
		case fd.Kind() == protoreflect.Int32Kind:
			qm.Set(fd, protoreflect.ValueOfInt32(8))
		case fd.Kind() == protoreflect.Uint32Kind:
			qm.Set(fd, protoreflect.ValueOfUint32(10))
		}
		if got, want := sameMoving(q, m), proto.Equal(moving(q), m); got != want {
			t.Errorf("%s changed: sameMoving %v, proto.Equal %v", fd.Name(), got, want)
		}
		if fd.HasPresence() && !fd.IsList() {
			qm = proto.Clone(base).(*gpumonv1.Process).ProtoReflect()
			qm.Clear(fd)
			q = qm.Interface().(*gpumonv1.Process)
			if got, want := sameMoving(q, m), proto.Equal(moving(q), m); got != want {
				t.Errorf("%s cleared: sameMoving %v, proto.Equal %v", fd.Name(), got, want)
			}
		}
	}
	nan := proto.Clone(base).(*gpumonv1.Process)
	nan.CpuPercent = math.NaN()
	if !sameMoving(nan, moving(nan)) {
		t.Error("NaN figures differ from themselves (proto.Equal takes NaN for NaN)")
	}
}

// TestSameSessionIsProtoEqual: the field-by-field comparison of sessions
// agrees with proto.Equal on every field of SessionRef changed alone (one
// added later and left out fails), on nil and empty sessions, and on
// unknown fields.
func TestSameSessionIsProtoEqual(t *testing.T) {
	base := &gpumonv1.SessionRef{Kind: "screen", Name: "train", User: "alice"}
	check := func(what string, a, b *gpumonv1.SessionRef) {
		t.Helper()
		if got, want := sameSession(a, b), proto.Equal(a, b); got != want {
			t.Errorf("%s: sameSession %v, proto.Equal %v", what, got, want)
		}
	}
	check("itself", base, proto.CloneOf(base))
	check("nil and nil", nil, nil)
	check("nil and empty", nil, &gpumonv1.SessionRef{})
	check("empty and nil", &gpumonv1.SessionRef{}, nil)
	fields := base.ProtoReflect().Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if fd.Kind() != protoreflect.StringKind || fd.IsList() {
			t.Fatalf("%s: a kind of field this test does not change", fd.Name())
		}
		q := proto.CloneOf(base)
		q.ProtoReflect().Set(fd, protoreflect.ValueOfString("other"))
		check(string(fd.Name())+" changed", base, q)
	}
	u := proto.CloneOf(base)
	u.ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 1))
	check("unknown field", base, u)
	f10 := protowire.AppendVarint(protowire.AppendTag(nil, 10, protowire.VarintType), 1)
	f11 := protowire.AppendVarint(protowire.AppendTag(nil, 11, protowire.VarintType), 2)
	a, b := proto.CloneOf(base), proto.CloneOf(base)
	a.ProtoReflect().SetUnknown(append(slices.Clone(f10), f11...))
	b.ProtoReflect().SetUnknown(append(slices.Clone(f11), f10...))
	check("the same unknown fields in another order", a, b)
}

// BenchmarkEncodeDecode: one 300-process snapshot through the agent's
// encoder and the hub's decoder, every process's CPU % moving (the load
// generator's machines) and 20 of 300 moving (a steady machine).
// BenchmarkEncodeDecode is a snapshot of 300 processes encoded and
// decoded, on the wire (bytes in between) or not; their figures told whole
// or as columns.
func BenchmarkEncodeDecode(b *testing.B) {
	for _, c := range []struct {
		moving        int
		columns, wire bool
	}{{300, false, false}, {20, false, false}, {300, false, true}, {300, true, true}, {20, true, true}} {
		name := fmt.Sprintf("moving=%d", c.moving)
		if c.wire {
			name += fmt.Sprintf("/wire/columns=%v", c.columns)
		}
		moving := c.moving
		b.Run(name, func(b *testing.B) {
			enc := Encoder{Columns: c.columns}
			var dec Decoder
			mk := func(seq uint64) *gpumonv1.Snapshot {
				r := &gpumonv1.Report{Hostname: "h", SystemInfo: &gpumonv1.SystemInfo{}}
				for i := range 300 {
					p := &gpumonv1.Process{Pid: int32(1000 + i), Ppid: 1, Name: "python", Username: "alice", Status: "sleeping",
						CreateTime: 1764300000 + float64(i), Cmdline: fmt.Sprintf("python train.py --run %d", i), MemoryPercent: 0.25, Rss: 1 << 30}
					if i < moving {
						p.CpuPercent = float64(seq%7) + float64(i)/1000
					}
					r.SystemInfo.Processes = append(r.SystemInfo.Processes, p)
				}
				return &gpumonv1.Snapshot{Seq: seq, Report: r}
			}
			snaps := make([]*gpumonv1.Snapshot, 64)
			for i := range snaps {
				snaps[i] = mk(uint64(i))
			}
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				b.StopTimer()
				s := proto.Clone(snaps[n%len(snaps)]).(*gpumonv1.Snapshot)
				n++
				b.StartTimer()
				enc.Encode(s)
				if c.wire {
					data, err := proto.Marshal(s)
					if err != nil {
						b.Fatal(err)
					}
					s = new(gpumonv1.Snapshot)
					if err := proto.Unmarshal(data, s); err != nil {
						b.Fatal(err)
					}
				}
				if err := dec.Decode(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
