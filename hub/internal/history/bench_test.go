package history

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/prometheus/tsdb"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// fleetReports builds one report per machine: 8 H100s each with every
// figure an agent reads from such a card, two users, a container, with
// figures that move with step.
func fleetReports(machines int, at time.Time, step int) []*gpumonv1.Report {
	out := make([]*gpumonv1.Report, machines)
	for m := range out {
		r := &gpumonv1.Report{Timestamp: timestamppb.New(at), IntervalSeconds: 2, DriverVersion: "550.54.15", SystemInfo: &gpumonv1.SystemInfo{
			CpuPercent: float64((m + step) % 100), MemoryUsed: 1 << 36, MemoryTotal: 1 << 38, MemoryPercent: 25,
			DiskUsed: 1 << 40, DiskTotal: 1 << 42, DiskPercent: 25, Load: &gpumonv1.LoadAverage{Load1: 4, Load5: 4, Load15: 4},
			Processes: []*gpumonv1.Process{{Pid: 10, IsGpuProcess: true, ContainerId: "abc", GpuMemoryUsage: 20000}},
		}}
		for g := range 8 {
			util := uint32((m*7 + g*13 + step) % 101)
			r.GpuData = append(r.GpuData, &gpumonv1.Gpu{
				Id: int32(g), Uuid: fmt.Sprintf("GPU-%d-%d", m, g), Name: "NVIDIA H100 80GB HBM3", MemoryTotal: 81559,
				MemoryUsed: 20000 + util*10, Utilization: proto.Uint32(util), MemoryUtilization: proto.Uint32(util / 2),
				Temperature: proto.Uint32(30 + util/3), PowerDraw: proto.Float64(80 + 6*float64(util)), PowerLimit: proto.Float64(700),
				SmClock: proto.Uint32(1980), MemoryClock: proto.Uint32(2619), PerformanceState: proto.Uint32(0),
				EccErrorsCorrected: proto.Uint32(0), EccErrorsUncorrected: proto.Uint32(0),
				EncoderUtilization: proto.Uint32(0), DecoderUtilization: proto.Uint32(0),
				PciBusId: fmt.Sprintf("00000000:%02X:00.0", 0x18+g), MemoryTemperature: proto.Uint32(40 + util/3),
				EnergyConsumption: proto.Float64(1e9 + float64(step)*1e6), PcieTxThroughput: proto.Uint32(util * 1000),
				PcieRxThroughput: proto.Uint32(util * 3000), PcieReplayCounter: proto.Uint32(0),
				NvlinkBandwidthTotal: proto.Float64(float64(step) * 1e8), RemappedRows: &gpumonv1.RemappedRows{},
				Activity: &gpumonv1.GpuActivity{Graphics: proto.Float64(float64(util) / 100), Sm: proto.Float64(float64(util) / 120),
					SmOccupancy: proto.Float64(float64(util) / 250), Tensor: proto.Float64(float64(util) / 200), Dram: proto.Float64(float64(util) / 300)},
				Processes: []*gpumonv1.Process{{Pid: int32(100 + g), Username: []string{"alice", "bob"}[g%2], GpuMemoryUsage: 20000}},
			})
		}
		out[m] = r
	}
	return out
}

// BenchmarkAppend1000GPUs appends one sampling interval of a 1,000-GPU
// fleet (125 machines × 8 GPUs) per iteration and reports samples/s and the
// bytes each sample takes on disk: in the WAL, and in a compacted block.
func BenchmarkAppend1000GPUs(b *testing.B) {
	dir := b.TempDir()
	s, err := Open(dir, Options{BlockDuration: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	f := fleet.New(nil)
	ms := make([]*fleet.Machine, 125)
	for i := range ms {
		ms[i], _ = f.Attach(fleet.Hello{Hello: &gpumonv1.Hello{Hostname: fmt.Sprintf("gpu-%03d", i), MachineId: fmt.Sprint(i), Epoch: 1}, Conn: fleet.NewAgentConn(false)})
	}
	start := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	before := s.Appended()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		at := start.Add(time.Duration(i) * 2 * time.Second)
		for m, r := range fleetReports(len(ms), at, i) {
			s.Record(ms[m], r, uint64(i+1))
		}
	}
	b.StopTimer()
	samples := float64(s.Appended() - before)
	b.ReportMetric(samples/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(samples/float64(b.N), "samples/interval")
	b.ReportMetric(float64(dirBytes(b, filepath.Join(dir, "wal")))/samples, "WAL-bytes/sample")
	// Cut the head into blocks, as the TSDB does every two hours, to
	// measure long-term storage.
	head := s.DB().Head()
	if err := s.DB().CompactHead(tsdb.NewRangeHead(head, head.MinTime(), head.MaxTime())); err == nil {
		blocks := int64(0)
		for _, bl := range s.DB().Blocks() {
			blocks += dirBytes(b, bl.Dir())
		}
		if blocks > 0 {
			b.ReportMetric(float64(blocks)/samples, "block-bytes/sample")
		}
	}
}

func dirBytes(b *testing.B, dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// BenchmarkRecordSnapshot records one 8-GPU machine's snapshot per
// iteration: what the hub pays in history per agent snapshot.
func BenchmarkRecordSnapshot(b *testing.B) {
	s, err := Open(b.TempDir(), Options{BlockDuration: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	f := fleet.New(nil)
	m, _ := f.Attach(fleet.Hello{Hello: &gpumonv1.Hello{Hostname: "gpu-000", MachineId: "0", Epoch: 1}, Conn: fleet.NewAgentConn(false)})
	start := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	r := fleetReports(1, start, 0)[0]
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Timestamp = timestamppb.New(start.Add(time.Duration(i) * 100 * time.Millisecond))
		if err := s.Record(m, r, uint64(i+1)); err != nil {
			b.Fatal(err)
		}
	}
}
