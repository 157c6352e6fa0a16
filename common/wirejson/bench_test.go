package wirejson_test

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gpumon/gpumon/common/wirejson"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// fleetReport is a machine like the load generator's: 8 GPUs, 300 processes.
func fleetReport(host string) *gpumonv1.Report {
	r := &gpumonv1.Report{
		Hostname: host, Timestamp: timestamppb.New(time.Date(2026, 11, 29, 2, 7, 37, 0, time.UTC)), IsOnline: true,
		SystemInfo: &gpumonv1.SystemInfo{
			CpuPercent: 42.5, MemoryTotal: 2 << 40, MemoryUsed: 1 << 39, MemoryPercent: 25, DiskTotal: 4 << 40, DiskUsed: 1 << 40,
			DiskPercent: 25, IpAddress: "10.0.3.17", Os: "Ubuntu 22.04.4 LTS", CpuCores: 192,
			ScreenSessions:   []*gpumonv1.TerminalSession{{Pid: "4242", Name: "train.v2", Status: "Detached", User: "alice", Kind: "screen"}},
			DockerContainers: []*gpumonv1.DockerContainer{{Id: "3f2a9c1b7d4e", Name: "jupyter", Status: "Up", Image: "pytorch/pytorch:2.3", MemoryUsage: 8 << 30, GpuDevices: "[0,1]"}},
		},
	}
	for i := range 300 {
		r.SystemInfo.Processes = append(r.SystemInfo.Processes, &gpumonv1.Process{
			Pid: int32(1000 + i*7), Ppid: 1, Name: "python", Username: "alice", Status: "sleeping",
			Cmdline:    fmt.Sprintf("python train.py --config configs/exp-%03d.yaml --lr 3e-4 --batch-size 64 --output /data/alice/runs/%d", i, i),
			CreateTime: 1764300000 + float64(i), MemoryPercent: 0.25, Rss: 1 << 30, CpuPercent: 12.5,
		})
	}
	for g := range 8 {
		gpu := &gpumonv1.Gpu{Id: int32(g), Name: "NVIDIA H100 80GB HBM3", Uuid: fmt.Sprintf("GPU-%08x", g), MemoryTotal: 81559,
			Temperature: proto.Uint32(55), Utilization: proto.Uint32(90), PowerDraw: proto.Float64(600), PowerLimit: proto.Float64(700)}
		p := r.SystemInfo.Processes[g]
		p.IsGpuProcess, p.GpuMemoryUsage, p.GpuId, p.GpuIds = true, 20000, proto.Int32(int32(g)), []int32{int32(g)}
		gpu.Processes = []*gpumonv1.Process{p}
		r.GpuData = append(r.GpuData, gpu)
	}
	return r
}

func fleetStats(n int) *gpumonv1.GetGpuStatsResponse {
	resp := &gpumonv1.GetGpuStatsResponse{Machines: map[string]*gpumonv1.Report{}}
	for i := range n {
		h := fmt.Sprintf("node-%04d", i)
		resp.Machines[h] = fleetReport(h)
	}
	return resp
}

func BenchmarkMarshalFleet100(b *testing.B) {
	resp := fleetStats(100)
	b.ReportAllocs()
	for b.Loop() {
		b.SetBytes(int64(len(wirejson.Marshal(resp))))
	}
}

func BenchmarkMarshalFleet100Documented(b *testing.B) {
	resp := fleetStats(100)
	b.ReportAllocs()
	for b.Loop() {
		b.SetBytes(int64(len(wirejson.AppendDocumented(nil, resp))))
	}
}

// BenchmarkLenientReport reads a posted report of 8 GPUs and 300 processes.
func BenchmarkLenientReport(b *testing.B) {
	data := wirejson.AppendDocumented(nil, fleetReport("node-0001"))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var r gpumonv1.Report
		if err := (wirejson.Lenient{}).Unmarshal(data, &r); err != nil {
			b.Fatal(err)
		}
	}
}
