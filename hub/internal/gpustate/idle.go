package gpustate

import (
	"slices"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// What idle while held means.
const (
	// IdleMaxUtilization: a GPU at or below this utilisation, percent, does
	// no work.
	IdleMaxUtilization = 5
	// IdleMinMemory: a GPU with processes and at least this much memory in
	// use, MiB, is held.
	IdleMinMemory = 1024
	// DefaultIdleAfter is how long a GPU must stay idle while held before it
	// is reported as idle-held (the hub's --idle-after).
	DefaultIdleAfter = 30 * time.Minute
)

// Idle reports whether g is idle while held in this sample: it has
// processes, at least IdleMinMemory in use and a known utilisation of at
// most IdleMaxUtilization. A GPU that could not be read is not.
func Idle(g *gpumonv1.Gpu) bool {
	return g.GetError() == "" && g.Utilization != nil && g.GetUtilization() <= IdleMaxUtilization &&
		g.GetMemoryUsed() >= IdleMinMemory && len(g.GetProcesses()) > 0
}

// IdleSince returns since when g has been idle while held, given since when
// it was at the previous sample (zero: it was not, or that sample does not
// follow on) and the time t of this sample. It is zero when g is not idle
// while held now.
func IdleSince(prev time.Time, g *gpumonv1.Gpu, t time.Time) time.Time {
	switch {
	case !Idle(g):
		return time.Time{}
	case prev.IsZero() || prev.After(t):
		return t
	}
	return prev
}

// MarkIdle sets idle_since and idle_held on every GPU of next, a machine's
// new current report received at now. prev is the machine's previous
// current report when next follows on from it (nil after a gap: how long a
// GPU was idle across a gap is unknown, so it counts from now). Whatever
// next's sender put in those fields is replaced. A GPU counts as the same
// GPU of prev when its index and UUID match.
func MarkIdle(next, prev *gpumonv1.Report, now time.Time, after time.Duration) {
	before := map[int32]*gpumonv1.Gpu{}
	for _, g := range prev.GetGpuData() {
		before[g.GetId()] = g
	}
	for _, g := range next.GetGpuData() {
		var was time.Time
		if p := before[g.GetId()]; p != nil && p.GetUuid() == g.GetUuid() && p.IdleSince != nil {
			was = p.GetIdleSince().AsTime()
		}
		since := IdleSince(was, g, now)
		g.IdleSince, g.IdleHeld = nil, false
		if !since.IsZero() {
			g.IdleSince = timestamppb.New(since)
			g.IdleHeld = now.Sub(since) >= after
		}
	}
}

// IdleGPU describes g of a machine as an idle GPU at now, with the users
// whose processes hold it (sorted, empty names left out).
func IdleGPU(key, hostname string, g *gpumonv1.Gpu, now time.Time) *gpumonv1.IdleGpu {
	since := g.GetIdleSince().AsTime()
	ig := &gpumonv1.IdleGpu{Machine: key, Hostname: hostname, Index: g.GetId(), Uuid: g.GetUuid(), Name: g.GetName(),
		MemoryUsed: g.GetMemoryUsed(), Since: g.GetIdleSince(), IdleSeconds: max(now.Sub(since).Seconds(), 0)}
	seen := map[string]bool{}
	for _, p := range g.GetProcesses() {
		if u := p.GetUsername(); u != "" && !seen[u] {
			seen[u] = true
			ig.Users = append(ig.Users, u)
		}
	}
	slices.Sort(ig.Users)
	return ig
}
