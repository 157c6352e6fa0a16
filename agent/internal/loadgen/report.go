// Package loadgen simulates many agents in one process, for load tests and
// benchmarks of a hub.
package loadgen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// Profile describes the synthetic machine every simulated agent reports.
type Profile struct {
	GPUs      int
	Processes int
	// GPUProcesses is how many of the processes use a GPU.
	GPUProcesses int
}

// Profiles by name.
var Profiles = map[string]Profile{
	"dgxh100": {GPUs: 8, Processes: 300, GPUProcesses: 12},
	"small":   {GPUs: 2, Processes: 60, GPUProcesses: 2},
}

// Template builds one machine's report: plausible GPUs with processes, a
// process table, screen sessions and containers.
func Template(p Profile, seed uint64) *gpumonv1.Report {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	r := &gpumonv1.Report{SystemInfo: &gpumonv1.SystemInfo{
		MemoryTotal: 2 << 40, MemoryUsed: 1 << 39, MemoryPercent: 25, DiskTotal: 4 << 40, DiskUsed: 1 << 40,
		DiskPercent: 25, IpAddress: fmt.Sprintf("10.%d.%d.%d", rng.IntN(256), rng.IntN(256), 1+rng.IntN(254)),
		Os: "Ubuntu 22.04.4 LTS", Kernel: "5.15.0-105-generic", CpuModel: "AMD EPYC 9654 96-Core Processor", CpuCores: 192,
		Load: &gpumonv1.LoadAverage{Load1: 12, Load5: 11, Load15: 10},
	}}
	users := []string{"alice", "bob", "carol", "dave", "root"}
	for i := range p.Processes {
		u := users[rng.IntN(len(users))]
		r.SystemInfo.Processes = append(r.SystemInfo.Processes, &gpumonv1.Process{
			Pid: int32(1000 + i*7), Ppid: 1, Name: "python", Username: u, Status: "sleeping",
			Cmdline:    fmt.Sprintf("python train.py --config configs/exp-%03d.yaml --lr 3e-4 --batch-size 64 --output /data/%s/runs/%d", i, u, i),
			CreateTime: 1764300000 + float64(i), MemoryPercent: rng.Float64(), Rss: float64(rng.IntN(4 << 30)),
		})
	}
	for g := range p.GPUs {
		r.GpuData = append(r.GpuData, &gpumonv1.Gpu{
			Id: int32(g), Name: "NVIDIA H100 80GB HBM3", Uuid: fmt.Sprintf("GPU-%08x-%04x", seed, g), MemoryTotal: 81559,
			Temperature: proto.Uint32(35), Utilization: proto.Uint32(0), PowerLimit: proto.Float64(700),
		})
	}
	for i := range min(p.GPUProcesses, p.Processes) {
		proc := r.SystemInfo.Processes[i]
		g := r.GpuData[i%max(p.GPUs, 1)]
		proc.IsGpuProcess, proc.GpuMemoryUsage, proc.GpuId, proc.GpuIds = true, 20000, proto.Int32(g.Id), []int32{g.Id}
		g.Processes = append(g.Processes, proc)
	}
	r.SystemInfo.ScreenSessions = []*gpumonv1.TerminalSession{{Pid: "4242", Name: "train.v2", Status: "Detached", User: "alice", Kind: "screen"}}
	r.SystemInfo.DockerContainers = []*gpumonv1.DockerContainer{{Id: "3f2a9c1b7d4e", Name: "jupyter", Status: "Up 2 hours", Image: "pytorch/pytorch:2.3", MemoryUsage: 8 << 30, GpuDevices: "[0,1]", GpuIds: []int32{0, 1}}}
	return r
}

// Sampler returns the template with moving figures.
type Sampler struct {
	template *gpumonv1.Report
	// gpuProcs[g] lists the indices in the process table of GPU g's processes.
	gpuProcs [][]int
	rng      *rand.Rand
}

// NewSampler returns a sampler for one simulated machine.
func NewSampler(p Profile, seed uint64) *Sampler {
	t := Template(p, seed)
	index := make(map[*gpumonv1.Process]int, len(t.GetSystemInfo().GetProcesses()))
	for i, proc := range t.GetSystemInfo().GetProcesses() {
		index[proc] = i
	}
	gpuProcs := make([][]int, len(t.GetGpuData()))
	for g, gpu := range t.GetGpuData() {
		for _, proc := range gpu.GetProcesses() {
			gpuProcs[g] = append(gpuProcs[g], index[proc])
		}
	}
	return &Sampler{template: t, gpuProcs: gpuProcs, rng: rand.New(rand.NewPCG(seed, 7))}
}

// Sample implements stream.Sampler. It copies the template field by field
// (proto.Clone goes through reflection and costs more than the rest of a
// snapshot's trip), sharing the parts that never change.
func (s *Sampler) Sample(context.Context) *gpumonv1.Report {
	t := s.template
	ts := t.GetSystemInfo()
	slab := make([]gpumonv1.Process, len(ts.GetProcesses()))
	procs := make([]*gpumonv1.Process, len(slab))
	for i, src := range ts.GetProcesses() {
		p := &slab[i]
		copyProcess(p, src)
		p.CpuPercent = 100 * s.rng.Float64()
		procs[i] = p
	}
	r := &gpumonv1.Report{
		Timestamp: timestamppb.New(time.Now()),
		SystemInfo: &gpumonv1.SystemInfo{
			CpuPercent: 20 + 60*s.rng.Float64(), MemoryTotal: ts.MemoryTotal, MemoryUsed: ts.MemoryUsed,
			MemoryPercent: ts.MemoryPercent, DiskTotal: ts.DiskTotal, DiskUsed: ts.DiskUsed, DiskPercent: ts.DiskPercent,
			IpAddress: ts.IpAddress, Os: ts.Os, Kernel: ts.Kernel, CpuModel: ts.CpuModel, CpuCores: ts.CpuCores,
			Load: ts.Load, ScreenSessions: ts.ScreenSessions, DockerContainers: ts.DockerContainers, Processes: procs,
		},
	}
	gpus := make([]gpumonv1.Gpu, len(t.GetGpuData()))
	r.GpuData = make([]*gpumonv1.Gpu, len(gpus))
	for i, src := range t.GetGpuData() {
		g := &gpus[i]
		g.Id, g.Name, g.Uuid, g.MemoryTotal, g.PowerLimit = src.Id, src.Name, src.Uuid, src.MemoryTotal, src.PowerLimit
		for _, j := range s.gpuProcs[i] {
			g.Processes = append(g.Processes, procs[j])
		}
		util := uint32(0)
		if len(g.Processes) > 0 {
			util = 60 + uint32(s.rng.IntN(40))
		}
		g.Utilization = proto.Uint32(util)
		g.Temperature = proto.Uint32(35 + util/3)
		g.MemoryUsed = uint32(len(g.Processes)) * 20000
		g.PowerDraw = proto.Float64(80 + 6*float64(util))
		r.GpuData[i] = g
	}
	return r
}

// copyProcess sets every field of dst from src. Slices and sub-messages are
// shared: nothing downstream modifies them.
func copyProcess(dst, src *gpumonv1.Process) {
	dst.Pid, dst.Name, dst.Cmdline = src.Pid, src.Name, src.Cmdline
	dst.CpuPercent, dst.MemoryPercent, dst.CreateTime = src.CpuPercent, src.MemoryPercent, src.CreateTime
	dst.Status, dst.Username, dst.IsGpuProcess = src.Status, src.Username, src.IsGpuProcess
	dst.GpuMemoryUsage, dst.GpuId, dst.Ppid, dst.Rss = src.GpuMemoryUsage, src.GpuId, src.Ppid, src.Rss
	dst.GpuIds, dst.ContainerId, dst.Session = src.GpuIds, src.ContainerId, src.Session
	dst.SmUtilization, dst.GpuUsageType = src.SmUtilization, src.GpuUsageType
}
