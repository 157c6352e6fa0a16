package service

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gpumon/gpumon/common/procdelta"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
	"github.com/gpumon/gpumon/hub/internal/history"
	"github.com/gpumon/gpumon/hub/internal/validate"
)

func benchReport() *gpumonv1.Report {
	r := &gpumonv1.Report{Timestamp: timestamppb.Now(), SystemInfo: &gpumonv1.SystemInfo{CpuPercent: 5}}
	for p := range 300 {
		r.SystemInfo.Processes = append(r.SystemInfo.Processes, &gpumonv1.Process{Pid: int32(1000 + p), Name: "python", Username: "alice",
			Cmdline: fmt.Sprintf("python train.py --config configs/exp-%03d.yaml --lr 3e-4 --batch-size 64 --output /data/alice/runs/%d", p, p)})
	}
	for g := range 8 {
		r.GpuData = append(r.GpuData, &gpumonv1.Gpu{Id: int32(g), Utilization: proto.Uint32(50), MemoryUsed: 1000, Temperature: proto.Uint32(50),
			Processes: []*gpumonv1.Process{proto.Clone(r.SystemInfo.Processes[g]).(*gpumonv1.Process)}})
	}
	return r
}

// BenchmarkIngest is the hub's work for one 300-process, 8-GPU snapshot
// after it is decoded: validation, fleet state, history.
func BenchmarkIngest(b *testing.B) {
	for _, withHistory := range []bool{false, true} {
		b.Run(fmt.Sprintf("history=%v", withHistory), func(b *testing.B) {
			f := fleet.New(nil)
			a := &Agents{Fleet: f, Stats: &Stats{}}
			if withHistory {
				s, err := history.Open(b.TempDir(), history.Options{})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				a.Sink = s
			}
			m, _ := f.Attach(fleet.Hello{Hello: &gpumonv1.Hello{Hostname: "h", MachineId: "m", Epoch: 1}, Conn: fleet.NewAgentConn(false)})
			data, _ := proto.Marshal(&gpumonv1.Snapshot{Report: benchReport()})
			start := time.Now().Add(-10 * time.Minute) // as in BenchmarkIngestDelta
			seq := uint64(0)
			unrecorded := false
			for b.Loop() {
				seq++
				var snap gpumonv1.Snapshot
				if err := proto.Unmarshal(data, &snap); err != nil {
					b.Fatal(err)
				}
				snap.Seq = seq
				snap.Report.Timestamp = timestamppb.New(start.Add(time.Duration(seq) * time.Millisecond))
				if _, err := a.ingest(m, &snap, nil, &unrecorded); err != nil || unrecorded {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkIngestDelta is the hub's work for the same snapshot arriving
// whole or as a delta, from its bytes on: decoding, rebuilding the report,
// validation, fleet state, history. As a delta it is steady (no figure
// moved) or, the hard case, every process's CPU % moved (the load
// generator's machines), its figures told whole or as columns.
func BenchmarkIngestDelta(b *testing.B) {
	for _, c := range []struct {
		delta   bool
		moving  int
		columns bool
	}{{false, 0, false}, {true, 0, false}, {true, 300, false}, {true, 300, true}} {
		delta := c.delta
		name := fmt.Sprintf("delta=%v", delta)
		if c.moving > 0 {
			name += fmt.Sprintf("/moving=%d", c.moving)
		}
		if c.columns {
			name += "/columns"
		}
		b.Run(name, func(b *testing.B) {
			f := fleet.New(nil)
			s, err := history.Open(b.TempDir(), history.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			a := &Agents{Fleet: f, Stats: &Stats{}, Sink: s}
			m, _ := f.Attach(fleet.Hello{Hello: &gpumonv1.Hello{Hostname: "h", MachineId: "m", Epoch: 1}, Conn: fleet.NewAgentConn(false)})
			enc := procdelta.Encoder{Columns: c.columns}
			var dec *procdelta.Decoder
			encode := func(seq uint64) []byte {
				snap := &gpumonv1.Snapshot{Seq: seq, Report: benchReport()}
				for i, p := range snap.Report.SystemInfo.Processes[:c.moving] {
					p.CpuPercent = float64(seq) + float64(i)/1000
				}
				if delta {
					enc.Encode(snap)
				}
				data, _ := proto.Marshal(snap)
				return data
			}
			// 1 ms a snapshot from 10 minutes back: a run stays in the
			// past, where the fleet keeps a sample's own time (ahead of
			// the clock, it is recorded at the receive time, behind the
			// last one recorded, and history looks for it first).
			start := time.Now().Add(-10 * time.Minute)
			if delta {
				dec = &procdelta.Decoder{Clean: validate.Process, Figure: validate.Figure}
				first := new(gpumonv1.Snapshot) // the stream's first: every static fact
				_ = proto.Unmarshal(encode(1), first)
				first.Report.Timestamp = timestamppb.New(start)
				unrecorded := false
				if _, err := a.ingest(m, first, dec, &unrecorded); err != nil {
					b.Fatal(err)
				}
			}
			data := encode(2)
			b.SetBytes(int64(len(data)))
			seq := uint64(1)
			unrecorded := false
			for b.Loop() {
				seq++
				var snap gpumonv1.Snapshot
				if err := proto.Unmarshal(data, &snap); err != nil {
					b.Fatal(err)
				}
				snap.Seq = seq
				snap.Report.Timestamp = timestamppb.New(start.Add(time.Duration(seq) * time.Millisecond))
				if _, err := a.ingest(m, &snap, dec, &unrecorded); err != nil || unrecorded {
					b.Fatal(err)
				}
			}
		})
	}
}
