package service

import (
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// failingSink stores snapshots while err is nil.
type failingSink struct {
	err    error
	stored []uint64
}

func (s *failingSink) Record(_ *fleet.Machine, _ *gpumonv1.Report, seq uint64) error {
	if s.err != nil {
		return s.err
	}
	s.stored = append(s.stored, seq)
	return nil
}

func (s *failingSink) Err() error { return s.err }

func TestAcknowledgedOnlyWhenStored(t *testing.T) {
	sink := &failingSink{}
	f := fleet.New(nil)
	a := &Agents{Fleet: f, Sink: sink, Stats: &Stats{}, Log: slog.New(slog.DiscardHandler)}
	m, _ := f.Attach(fleet.Hello{Hello: &gpumonv1.Hello{Hostname: "h", MachineId: "m", Epoch: 1}, Conn: fleet.NewAgentConn(false)})
	snap := func(seq uint64) *gpumonv1.Snapshot {
		return &gpumonv1.Snapshot{Seq: seq, Report: &gpumonv1.Report{Timestamp: timestamppb.New(time.Now()), SystemInfo: &gpumonv1.SystemInfo{CpuPercent: float64(seq)}}}
	}
	unrecorded := false
	ingest := func(seq uint64) (uint64, error) {
		t.Helper()
		return a.ingest(m, snap(seq), nil, &unrecorded)
	}
	if ack, err := ingest(1); ack != 1 || err != nil {
		t.Fatalf("seq 1: ack %d, %v", ack, err)
	}
	sink.err = errors.New("disk full")
	for seq := uint64(2); seq <= 3; seq++ {
		if ack, err := ingest(seq); ack != 0 || err != nil {
			t.Fatalf("seq %d while the store fails: ack %d, %v; want no ack and the stream kept", seq, ack, err)
		}
	}
	if got := m.State().Report.GetSystemInfo().GetCpuPercent(); got != 3 {
		t.Errorf("current state = seq %v, want 3: it is served while the store fails", got)
	}
	if got := f.Export()[0].LastSeq; got != 1 {
		t.Errorf("registry would keep seq %d as acknowledged, want 1", got)
	}
	sink.err = nil
	if _, err := ingest(4); status.Code(err) != codes.Unavailable {
		t.Fatalf("seq 4 after the store recovered: %v, want Unavailable (reconnect and replay)", err)
	}
	// The agent reconnects and replays 2..4 from the last acknowledged seq.
	_, w := f.Attach(fleet.Hello{Hello: &gpumonv1.Hello{Hostname: "h", MachineId: "m", Epoch: 1}, Conn: fleet.NewAgentConn(false)})
	if w.LastSeq != 1 {
		t.Fatalf("welcome last seq %d, want 1", w.LastSeq)
	}
	unrecorded = false
	for seq := uint64(2); seq <= 4; seq++ {
		if ack, err := ingest(seq); ack != seq || err != nil {
			t.Fatalf("replayed seq %d: ack %d, %v", seq, ack, err)
		}
	}
	if len(sink.stored) != 4 {
		t.Errorf("stored %v, want 1..4", sink.stored)
	}
}

// TestLongProcessListsCutNotRefused: a full snapshot (an agent that does not
// cut its own list) over the process limit is stored with its list cut and
// acknowledged; one over the byte limit even without processes is refused.
func TestLongProcessListsCutNotRefused(t *testing.T) {
	sink := &failingSink{}
	f := fleet.New(nil)
	a := &Agents{Fleet: f, Sink: sink, Stats: &Stats{}, Log: slog.New(slog.DiscardHandler), Capacity: Capacity{MaxProcesses: 10, MaxBytes: 4096}}
	m, _ := f.Attach(fleet.Hello{Hello: &gpumonv1.Hello{Hostname: "h", MachineId: "m", Epoch: 1}, Conn: fleet.NewAgentConn(false)})
	r := &gpumonv1.Report{Timestamp: timestamppb.New(time.Now()), SystemInfo: &gpumonv1.SystemInfo{}}
	for pid := range int32(50) {
		r.SystemInfo.Processes = append(r.SystemInfo.Processes, &gpumonv1.Process{Pid: pid + 1, Name: "worker", IsGpuProcess: pid == 40})
	}
	unrecorded := false
	if ack, err := a.ingest(m, &gpumonv1.Snapshot{Seq: 1, Report: r}, nil, &unrecorded); ack != 1 || err != nil {
		t.Fatalf("50 processes over a limit of 10: ack %d, %v; want it acknowledged", ack, err)
	}
	procs := m.State().Report.GetSystemInfo().GetProcesses()
	if len(procs) != 10 || !slices.ContainsFunc(procs, func(p *gpumonv1.Process) bool { return p.GetPid() == 41 }) {
		t.Errorf("stored %d processes, want 10 with the GPU process 41", len(procs))
	}
	if a.Stats.Cut.Load() != 1 || a.Stats.Rejected.Load() != 0 {
		t.Errorf("counted %d cut, %d refused; want 1, 0", a.Stats.Cut.Load(), a.Stats.Rejected.Load())
	}
	a.Capacity.MaxBytes = 200
	huge := &gpumonv1.Report{Timestamp: timestamppb.New(time.Now()), CudaVersion: strings.Repeat("9", 250)}
	huge.SystemInfo = &gpumonv1.SystemInfo{Processes: []*gpumonv1.Process{{Pid: 1}}}
	if _, err := a.ingest(m, &gpumonv1.Snapshot{Seq: 2, Report: huge}, nil, &unrecorded); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("a report over the byte limit without its processes: %v, want ResourceExhausted", err)
	}
}
