package service

import (
	"errors"
	"log/slog"
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
