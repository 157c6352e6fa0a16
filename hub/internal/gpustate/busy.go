package gpustate

import (
	"slices"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// Busy reports whether g is in use: it could be read, its memory total is
// known, and it is not free by the default criteria (a compute process runs
// on it, its utilisation is above 10 % or more than 10 % of its memory is
// used). A GPU is busy or free, never both; one that reports an error or no
// memory total is neither, so busy and free GPUs never add up to more than
// the GPUs there are.
func Busy(g *gpumonv1.Gpu) bool {
	return g.GetError() == "" && g.GetMemoryTotal() > 0 && !Free(defaultCriteria, g)
}

// Users returns the owners of g's processes, sorted, each once; a process
// whose owner is not known counts as no one's.
func Users(g *gpumonv1.Gpu) []string {
	var out []string
	for _, p := range g.GetProcesses() {
		if u := p.GetUsername(); u != "" {
			out = append(out, u)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Row describes g of a machine for the fleet's GPU list, with the hub's
// judgement of its state.
func Row(key, hostname string, online bool, g *gpumonv1.Gpu) *gpumonv1.GpuRow {
	return &gpumonv1.GpuRow{
		Machine: key, Hostname: hostname, Online: online, Index: g.GetId(), Name: g.GetName(),
		Utilization: g.Utilization, MemoryUsed: g.GetMemoryUsed(), MemoryTotal: g.GetMemoryTotal(),
		MemoryFree: MemoryFree(g), Temperature: g.Temperature, PowerDraw: g.PowerDraw, Users: Users(g),
		ProcessCount: uint32(len(g.GetProcesses())), Free: Free(defaultCriteria, g), Busy: Busy(g),
		IdleHeld: g.GetIdleHeld(), Error: g.GetError(),
	}
}
