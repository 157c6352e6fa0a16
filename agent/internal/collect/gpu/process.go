package gpu

import (
	"cmp"
	"math"
	"slices"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/gpumon/gpumon/agent/internal/collect"
)

// Process types as reports spell them.
const (
	TypeCompute         = "compute"
	TypeGraphics        = "graphics"
	TypeComputeGraphics = "compute+graphics"
)

// readProcesses lists the GPU's compute and graphics processes, merged by
// PID, with per-process SM utilisation where NVML gives it. Failures leave
// the list shorter; they never fail the GPU.
func (r *reader) readProcesses() []collect.GPUProcess {
	var compute, graphics []nvml.ProcessInfo
	if r.want(mComputeProcs) {
		v, ret := r.dev.GetComputeRunningProcesses()
		if r.ok(mComputeProcs, ret) {
			compute = v
		}
	}
	if r.want(mGraphicsProcs) {
		v, ret := r.dev.GetGraphicsRunningProcesses()
		if r.ok(mGraphicsProcs, ret) {
			graphics = v
		}
	}
	procs := MergeProcesses(int32(r.idx), compute, graphics)
	if len(procs) == 0 {
		return procs
	}
	if sm, ok := r.readProcessUtil(); ok {
		for i := range procs {
			procs[i].SMUtilization = ptr(sm[procs[i].PID])
		}
	}
	return procs
}

// readProcessUtil returns the newest SM utilisation per PID since the last
// call. ok is false when the card cannot tell; a process missing from the
// map was idle.
func (r *reader) readProcessUtil() (map[int32]uint32, bool) {
	if !r.want(mProcessUtil) {
		return nil, false
	}
	samples, ret := r.dev.GetProcessUtilization(r.st.lastSeen)
	switch {
	case ret == nvml.ERROR_NOT_FOUND,
		ret == nvml.ERROR_INSUFFICIENT_SIZE && len(samples) == 0:
		// No sample since lastSeen: every process was idle.
		return nil, true
	case !r.ok(mProcessUtil, ret):
		return nil, false
	}
	sm := make(map[int32]uint32, len(samples))
	newest := make(map[int32]uint64, len(samples))
	for _, s := range samples {
		pid := int32(s.Pid)
		if t, seen := newest[pid]; seen && t >= s.TimeStamp {
			continue
		}
		newest[pid] = s.TimeStamp
		sm[pid] = min(s.SmUtil, 100)
		r.st.lastSeen = max(r.st.lastSeen, s.TimeStamp)
	}
	return sm, true
}

// MergeProcesses joins NVML's compute and graphics process lists of GPU gpu
// by PID: a PID in both lists becomes one "compute+graphics" entry with the
// larger of the two memory figures. The result is sorted by PID.
func MergeProcesses(gpu int32, compute, graphics []nvml.ProcessInfo) []collect.GPUProcess {
	out := make([]collect.GPUProcess, 0, len(compute)+len(graphics))
	add := func(list []nvml.ProcessInfo, typ string) {
		for _, p := range list {
			pid, mem := int32(p.Pid), usedMiB(p.UsedGpuMemory)
			i := slices.IndexFunc(out, func(g collect.GPUProcess) bool { return g.PID == pid })
			if i < 0 {
				out = append(out, collect.GPUProcess{PID: pid, GPU: gpu, UsedMemory: mem, Type: typ})
				continue
			}
			out[i].UsedMemory = max(out[i].UsedMemory, mem)
			if out[i].Type != typ {
				out[i].Type = TypeComputeGraphics
			}
		}
	}
	add(compute, TypeCompute)
	add(graphics, TypeGraphics)
	slices.SortFunc(out, func(a, b collect.GPUProcess) int { return cmp.Compare(a.PID, b.PID) })
	return out
}

// usedMiB converts a process's memory to MiB; NVML reports "not available"
// (under some virtualisation, without permission) as all ones.
func usedMiB(b uint64) uint32 {
	if b == math.MaxUint64 {
		return 0
	}
	return toMiB(b)
}
