package gpustate

import (
	"cmp"
	"errors"
	"math"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// Defaults of what counts as free (ListFreeGpusRequest documents them).
const (
	DefaultMaxUtilization = 10
	DefaultMinFreePercent = 90
)

// Criteria returns req with every default filled in, or an error naming a
// value out of range. req is not changed.
func Criteria(req *gpumonv1.ListFreeGpusRequest) (*gpumonv1.ListFreeGpusRequest, error) {
	c := proto.Clone(req).(*gpumonv1.ListFreeGpusRequest)
	if c.MaxUtilization == nil {
		c.MaxUtilization = proto.Uint32(DefaultMaxUtilization)
	}
	if c.MinFreePercent == nil {
		c.MinFreePercent = proto.Uint32(DefaultMinFreePercent)
	}
	var errs []error
	if c.GetMaxUtilization() > 100 {
		errs = append(errs, errors.New("max_utilization is a percentage (0-100)"))
	}
	if c.GetMinFreePercent() > 100 {
		errs = append(errs, errors.New("min_free_percent is a percentage (0-100)"))
	}
	return c, errors.Join(errs...)
}

// defaultCriteria is built once: machine summaries count free GPUs by it
// on every sample.
var defaultCriteria, _ = Criteria(&gpumonv1.ListFreeGpusRequest{})

// DefaultCriteria is what counts as free when nothing is asked for. It is
// shared: callers must not change it.
func DefaultCriteria() *gpumonv1.ListFreeGpusRequest { return defaultCriteria }

// Free reports whether g is free by c (as Criteria returns it). Whether the
// machine is online is the caller's test (c.include_offline).
func Free(c *gpumonv1.ListFreeGpusRequest, g *gpumonv1.Gpu) bool {
	free, total := MemoryFree(g), g.GetMemoryTotal()
	switch {
	case g.GetError() != "", total == 0: // unreadable, or its memory unknown
		return false
	case free < c.GetMinFreeMemory(), uint64(free)*100 < uint64(c.GetMinFreePercent())*uint64(total):
		return false
	case g.Utilization != nil && g.GetUtilization() > c.GetMaxUtilization():
		return false
	case c.GetIdle() && len(g.GetProcesses()) > 0:
		return false
	case !c.GetShared() && ComputeProcesses(g) > 0:
		return false
	}
	return true
}

// MemoryFree is g's free memory, MiB: as reported, else total less used.
func MemoryFree(g *gpumonv1.Gpu) uint32 {
	if g.MemoryFree != nil {
		return min(g.GetMemoryFree(), g.GetMemoryTotal())
	}
	return g.GetMemoryTotal() - min(g.GetMemoryUsed(), g.GetMemoryTotal())
}

// ComputeProcesses counts g's processes that compute: every process but
// those reported as graphics only.
func ComputeProcesses(g *gpumonv1.Gpu) uint32 {
	var n uint32
	for _, p := range g.GetProcesses() {
		if t := p.GetGpuUsageType(); t == "" || strings.Contains(t, "compute") {
			n++
		}
	}
	return n
}

// Score says how free g is, from 0 to 1: the share of its memory that is
// free times the share of its time that is not busy. An unknown utilisation
// counts as 0 %.
func Score(g *gpumonv1.Gpu) float64 {
	total := g.GetMemoryTotal()
	if total == 0 {
		return 0
	}
	return float64(MemoryFree(g)) / float64(total) * (1 - float64(min(g.GetUtilization(), 100))/100)
}

// FreeGPU describes g of a machine for the free-GPU list.
func FreeGPU(key, hostname string, online bool, g *gpumonv1.Gpu) *gpumonv1.FreeGpu {
	return &gpumonv1.FreeGpu{
		Machine: key, Hostname: hostname, Index: g.GetId(), Uuid: g.GetUuid(), Name: g.GetName(),
		MemoryFree: MemoryFree(g), MemoryTotal: g.GetMemoryTotal(), Utilization: g.Utilization,
		Temperature: g.Temperature, ProcessCount: uint32(len(g.GetProcesses())), Online: online,
		Score: Score(g), ComputeProcessCount: ComputeProcesses(g),
	}
}

// SortFree orders free GPUs best first: without compute processes, then by
// score in whole percent (so of two cards about as free, the one with more
// free memory comes first), free memory, temperature, machine and index.
func SortFree(gs []*gpumonv1.FreeGpu) {
	pct := func(g *gpumonv1.FreeGpu) int { return int(math.Round(g.GetScore() * 100)) }
	slices.SortStableFunc(gs, func(a, b *gpumonv1.FreeGpu) int {
		return cmp.Or(
			cmp.Compare(min(a.GetComputeProcessCount(), 1), min(b.GetComputeProcessCount(), 1)),
			cmp.Compare(pct(b), pct(a)),
			cmp.Compare(b.GetMemoryFree(), a.GetMemoryFree()),
			cmp.Compare(a.GetTemperature(), b.GetTemperature()),
			cmp.Compare(a.GetMachine(), b.GetMachine()),
			cmp.Compare(a.GetIndex(), b.GetIndex()))
	})
}
