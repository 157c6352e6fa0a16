package collect

import (
	"cmp"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/gpumon/gpumon/common/wirejson"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// Merge assembles a report from a sample: GPU processes are joined with the
// process list (is_gpu_process, gpu_memory_usage, gpu_id, gpu_ids, SM
// utilisation), each GPU lists its processes, and each container lists the
// GPU processes running in it.
func Merge(s *Sample) *gpumonv1.Report {
	sys := s.System
	if sys == nil {
		sys = &gpumonv1.SystemInfo{}
	}
	sys.Processes = s.Processes
	sys.ScreenSessions = s.ScreenSessions
	sys.TmuxSessions = s.TmuxSessions
	sys.DockerContainers = s.Containers
	rep := &gpumonv1.Report{
		GpuData:       s.GPUs,
		SystemInfo:    sys,
		DriverVersion: s.DriverVersion,
		CudaVersion:   s.CUDAVersion,
		Simulated:     s.Simulated,
	}
	byPID := make(map[int32]*gpumonv1.Process, len(s.Processes))
	for _, p := range s.Processes {
		byPID[p.Pid] = p
	}
	gpuByIndex := make(map[int32]*gpumonv1.Gpu, len(s.GPUs))
	for _, g := range s.GPUs {
		gpuByIndex[g.Id] = g
	}
	gps := slices.Clone(s.GPUProcesses)
	slices.SortStableFunc(gps, func(a, b GPUProcess) int {
		return cmp.Or(cmp.Compare(a.PID, b.PID), cmp.Compare(a.GPU, b.GPU))
	})
	for _, gp := range gps {
		p := byPID[gp.PID]
		if p == nil {
			// Not visible in our process table (another PID namespace).
			p = &gpumonv1.Process{Pid: gp.PID, Name: "[not visible]"}
			byPID[gp.PID] = p
			sys.Processes = append(sys.Processes, p)
		}
		markGPU(p, gp)
	}
	for _, gp := range gps {
		if g := gpuByIndex[gp.GPU]; g != nil {
			entry := proto.Clone(byPID[gp.PID]).(*gpumonv1.Process)
			// On the GPU's own list, memory and SM figures are for this GPU.
			entry.GpuMemoryUsage = gp.UsedMemory
			entry.GpuId = proto.Int32(gp.GPU)
			entry.SmUtilization = gp.SMUtilization
			g.Processes = append(g.Processes, entry)
		}
	}
	joinContainers(sys.DockerContainers, sys.Processes)
	return rep
}

func markGPU(p *gpumonv1.Process, gp GPUProcess) {
	p.IsGpuProcess = true
	p.GpuMemoryUsage += gp.UsedMemory
	if p.GpuId == nil {
		p.GpuId = proto.Int32(gp.GPU)
	}
	if !slices.Contains(p.GpuIds, gp.GPU) {
		p.GpuIds = append(p.GpuIds, gp.GPU)
	}
	if gp.SMUtilization != nil {
		sum := p.GetSmUtilization() + *gp.SMUtilization
		p.SmUtilization = &sum
	}
	if p.GpuUsageType == "" {
		p.GpuUsageType = gp.Type
	}
}

func joinContainers(cs []*gpumonv1.DockerContainer, ps []*gpumonv1.Process) {
	if len(cs) == 0 {
		return
	}
	byID := make(map[string]*gpumonv1.DockerContainer, len(cs))
	for _, c := range cs {
		byID[c.Id] = c
		if c.GpuDevices == "" {
			c.GpuDevices = wirejson.FormatGpuDevices(c.GpuIds)
		}
	}
	for _, p := range ps {
		if c := byID[p.ContainerId]; c != nil && p.IsGpuProcess {
			c.GpuPids = append(c.GpuPids, p.Pid)
		}
	}
}
