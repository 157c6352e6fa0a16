package stream

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gpumon/gpumon/common/procdelta"
	"github.com/gpumon/gpumon/common/proclimit"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// snapshot is a report of n processes, the first two on GPU 0, with a
// process collector status (a cut adds to its message).
func snapshot(seq uint64, n int) *gpumonv1.Snapshot {
	r := &gpumonv1.Report{Hostname: "h", Timestamp: timestamppb.Now(),
		SystemInfo: &gpumonv1.SystemInfo{CpuPercent: 12, MemoryTotal: 1 << 30},
		Collectors: []*gpumonv1.CollectorStatus{{Name: proclimit.Collector, State: gpumonv1.CollectorState_COLLECTOR_STATE_OK, Message: "partial"}},
	}
	for i := range n {
		r.SystemInfo.Processes = append(r.SystemInfo.Processes, &gpumonv1.Process{Pid: int32(100 + i), Name: "python", Username: "alice",
			Cmdline: fmt.Sprintf("python train.py --run %d", i), CpuPercent: float64(i), Rss: float64(i << 20), IsGpuProcess: i < 2})
	}
	r.GpuData = []*gpumonv1.Gpu{{Id: 0, Name: "NVIDIA H100", MemoryTotal: 81559, Utilization: proto.Uint32(90),
		Processes: []*gpumonv1.Process{proto.CloneOf(r.SystemInfo.Processes[0]), proto.CloneOf(r.SystemInfo.Processes[1])}}}
	return &gpumonv1.Snapshot{Seq: seq, Report: r}
}

// The send path cuts the list to the hub's limit and tells a delta, on a
// copy: the buffered snapshot stays whole for a replay, and what the hub
// rebuilds is the cut report.
func TestSendingLeavesTheBufferedSnapshotWhole(t *testing.T) {
	s := snapshot(1, 10)
	before := proto.CloneOf(s)
	if c := forSending(s); !proto.Equal(c, s) {
		t.Fatalf("the copy differs from the snapshot:\n%v\n%v", c, s)
	}

	var enc procdelta.Encoder
	var dec procdelta.Decoder
	for range 2 { // the stream's first (every static fact), then a steady one
		out := forSending(s)
		if cut, _ := proclimit.Limit(out.GetReport(), 4, 0); cut != 6 {
			t.Fatalf("cut %d processes, want 6", cut)
		}
		want := proto.CloneOf(out)
		if !enc.Encode(out) {
			t.Fatal("not told as a delta")
		}
		if !proto.Equal(s, before) {
			t.Fatalf("sending changed the buffered snapshot:\n%v\nwas\n%v", s, before)
		}
		got := proto.CloneOf(out) // as the hub receives it: its own message
		if err := dec.Decode(got); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got, want) {
			t.Fatalf("the hub rebuilds\n%v\nwant\n%v", got, want)
		}
	}
}

// Snapshots beyond the newest few are kept encoded; every one comes back
// whole, and one handed out is not changed by later pushes.
func TestBufferKeepsOlderSnapshotsEncoded(t *testing.T) {
	b := newBuffer(100)
	want := map[uint64]*gpumonv1.Snapshot{}
	first := snapshot(1, 5)
	want[1] = proto.CloneOf(first)
	if err := b.push(first); err != nil {
		t.Fatal(err)
	}
	handed, _ := b.after(0)
	for seq := uint64(2); seq <= 20; seq++ {
		s := snapshot(seq, 5)
		want[seq] = proto.CloneOf(s)
		if err := b.push(s); err != nil {
			t.Fatal(err)
		}
	}
	if !proto.Equal(handed, want[1]) {
		t.Errorf("the snapshot handed out changed after later pushes")
	}
	decoded := 0
	for _, e := range b.items {
		if e.msg != nil {
			decoded++
		} else if e.data == nil {
			t.Fatalf("seq %d kept neither as message nor as bytes", e.seq)
		}
	}
	if decoded != keepDecoded {
		t.Errorf("%d snapshots kept as messages, want the newest %d", decoded, keepDecoded)
	}
	for seq := uint64(0); seq < 20; seq++ {
		got, ok := b.after(seq)
		if !ok || !proto.Equal(got, want[seq+1]) {
			t.Fatalf("after(%d) = %v, %v; want seq %d whole", seq, got.GetSeq(), ok, seq+1)
		}
	}
}

// BenchmarkSnapshotPath is what the agent spends on a snapshot from the
// moment it is taken: buffered, cut and told as a delta, encoded for the
// stream, acknowledged. 300 processes, 8 GPUs; a steady machine. The
// sample itself is a copy of a template, counted too.
func BenchmarkSnapshotPath(b *testing.B) {
	template := snapshot(0, 300)
	for i := range 8 {
		g := proto.CloneOf(template.Report.GpuData[0])
		g.Id = int32(i)
		template.Report.GpuData = append(template.Report.GpuData, g)
	}
	buf := newBuffer(100)
	var enc procdelta.Encoder
	seq := uint64(0)
	for b.Loop() {
		seq++
		s := proto.CloneOf(template) // the sample, a new report each time (counted too)
		s.Seq = seq
		if err := buf.push(s); err != nil {
			b.Fatal(err)
		}
		buffered, _ := buf.after(seq - 1)
		out, _, _ := prepare(buffered, &enc, 1000)
		if _, err := proto.Marshal(&gpumonv1.ConnectRequest{Msg: &gpumonv1.ConnectRequest_Snapshot{Snapshot: out}}); err != nil {
			b.Fatal(err)
		}
		buf.ack(seq)
	}
}
