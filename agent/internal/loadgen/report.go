// Package loadgen simulates many agents in one process, for load tests and
// benchmarks of a hub.
package loadgen

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// Machine is one kind of simulated machine: a simulated GPU machine (see
// sim.Profiles) and how many processes besides its jobs it runs.
type Machine struct {
	Sim       string
	Processes int
}

// Share is a kind of machine and its weight in a fleet.
type Share struct {
	Machine
	Weight float64
}

// Profile is the fleet a load run simulates: each machine is drawn from
// the mix by its seed. Whatever the mix, machines differ: each has its own
// jobs, and its own temperament (mostly idle, busy or full).
type Profile struct{ Mix []Share }

// profiles returns the profiles by name, built anew at each call so that
// no caller can change another's: mixed is a lab's fleet; dgxh100 and small
// keep every machine the same size, for benchmarks.
func profiles() map[string]Profile {
	dgx := Machine{"dgxh100", 300}
	workstation := Machine{"rtx4090x2", 60}
	return map[string]Profile{
		"mixed": {Mix: []Share{
			{dgx, 35}, {Machine{"dgxa100", 300}, 20}, {Machine{"dgxh200", 300}, 10},
			{Machine{"dgxb200", 300}, 10}, {Machine{"rtx4090x4", 120}, 15}, {workstation, 10},
		}},
		"dgxh100": {Mix: []Share{{dgx, 1}}},
		"small":   {Mix: []Share{{workstation, 1}}},
	}
}

// LookupProfile returns the profile called name.
func LookupProfile(name string) (Profile, bool) {
	p, ok := profiles()[name]
	return p, ok
}

// ProfileNames lists the profile names, sorted.
func ProfileNames() []string { return slices.Sorted(maps.Keys(profiles())) }

// pick draws a machine for seed.
func (p Profile) pick(seed uint64) Machine {
	var total float64
	for _, s := range p.Mix {
		total += s.Weight
	}
	u := rand.New(rand.NewPCG(seed, 0x5eed)).Float64() * total
	for _, s := range p.Mix {
		if u < s.Weight {
			return s.Machine
		}
		u -= s.Weight
	}
	return p.Mix[len(p.Mix)-1].Machine
}

// machineSeed is the seed of machine i of a run seeded with seed.
func machineSeed(seed uint64, i int) uint64 {
	x := seed ^ uint64(i+1)*0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// users own the simulated processes.
var users = []string{"alice", "bob", "carol", "dave", "erin"}

// template builds what a machine reports that does not come from its jobs:
// system facts, a table of n background processes and a container.
func template(n int, seed uint64) *gpumonv1.Report {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	r := &gpumonv1.Report{SystemInfo: &gpumonv1.SystemInfo{
		MemoryTotal: 2 << 40, MemoryUsed: 1 << 39, MemoryPercent: 25, DiskTotal: 4 << 40, DiskUsed: 1 << 40,
		DiskPercent: 25, IpAddress: fmt.Sprintf("10.%d.%d.%d", rng.IntN(256), rng.IntN(256), 1+rng.IntN(254)),
		Os: "Ubuntu 22.04.4 LTS", Kernel: "5.15.0-105-generic", CpuModel: "AMD EPYC 9654 96-Core Processor", CpuCores: 192,
		Load: &gpumonv1.LoadAverage{Load1: 12, Load5: 11, Load15: 10},
	}}
	for i := range n {
		u := users[rng.IntN(len(users))]
		r.SystemInfo.Processes = append(r.SystemInfo.Processes, &gpumonv1.Process{
			Pid: int32(1000 + i*7), Ppid: 1, Name: "python", Username: u, Status: "sleeping",
			Cmdline:    fmt.Sprintf("python train.py --config configs/exp-%03d.yaml --lr 3e-4 --batch-size 64 --output /data/%s/runs/%d", i, u, i),
			CreateTime: 1764300000 + float64(i), MemoryPercent: rng.Float64(), Rss: float64(rng.IntN(4 << 30)),
		})
	}
	r.SystemInfo.DockerContainers = []*gpumonv1.DockerContainer{{Id: "3f2a9c1b7d4e", Name: "jupyter", Status: "Up 2 hours", Image: "pytorch/pytorch:2.3", MemoryUsage: 8 << 30, GpuDevices: "[0,1]", GpuIds: []int32{0, 1}}}
	return r
}
