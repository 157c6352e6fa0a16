package fleet

import (
	"cmp"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

func timestampNow(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }

// FillStatic puts the inventory's static facts back into a report whose
// agent left them out.
func FillStatic(r *gpumonv1.Report, inv *gpumonv1.Inventory) {
	if inv == nil {
		return
	}
	byID := make(map[int32]*gpumonv1.GpuInfo, len(inv.GetGpus()))
	for _, g := range inv.GetGpus() {
		byID[g.GetId()] = g
	}
	for _, g := range r.GetGpuData() {
		info := byID[g.GetId()]
		if info == nil {
			continue
		}
		g.Uuid = cmp.Or(g.Uuid, info.GetUuid())
		g.Name = cmp.Or(g.Name, info.GetName())
		g.MemoryTotal = cmp.Or(g.MemoryTotal, info.GetMemoryTotal())
		if g.PowerLimit == nil {
			g.PowerLimit = info.PowerLimit
		}
		if g.PersistenceMode == nil {
			g.PersistenceMode = info.PersistenceMode
		}
		if g.MigMode == nil {
			g.MigMode = info.MigMode
		}
	}
	r.DriverVersion = cmp.Or(r.DriverVersion, inv.GetDriverVersion())
	r.CudaVersion = cmp.Or(r.CudaVersion, inv.GetCudaVersion())
	if s := r.GetSystemInfo(); s != nil {
		s.Os = cmp.Or(s.Os, inv.GetOs())
		s.Kernel = cmp.Or(s.Kernel, inv.GetKernel())
		s.CpuModel = cmp.Or(s.CpuModel, inv.GetCpuModel())
		s.CpuCores = cmp.Or(s.CpuCores, inv.GetCpuCores())
	}
}

// Summary computes a machine's at-a-glance figures.
func (m *Machine) Summary() *gpumonv1.MachineSummary {
	st := m.State()
	s := &gpumonv1.MachineSummary{Key: m.Key, Hostname: m.Hostname, MachineId: m.MachineID}
	if st == nil {
		return s
	}
	s.Online = st.Online
	s.LastSeen = timestamppb.New(st.LastSeen)
	s.FirstSeen = timestamppb.New(st.FirstSeen)
	s.Simulated = st.Simulated || st.Report.GetSimulated()
	s.HostnameConflict = st.Conflict
	s.AgentVersion = cmp.Or(st.Agent, st.Report.GetAgentVersion())
	s.Source = st.Source
	s.IntervalSeconds = st.Interval.Seconds()
	s.CanKill = st.CanKill && st.Online
	r := st.Report
	sys := r.GetSystemInfo()
	s.IpAddress = sys.GetIpAddress()
	s.CpuPercent = sys.GetCpuPercent()
	s.MemoryPercent = sys.GetMemoryPercent()
	s.DiskPercent = sys.GetDiskPercent()
	var util float64
	for _, g := range r.GetGpuData() {
		s.GpuCount++
		s.GpuMemoryUsed += g.GetMemoryUsed()
		s.GpuMemoryTotal += g.GetMemoryTotal()
		if g.GetUtilization() > 0 || len(g.GetProcesses()) > 0 {
			s.GpusBusy++
		}
		util += float64(g.GetUtilization())
		if g.Temperature != nil && (s.MaxTemperature == nil || *g.Temperature > *s.MaxTemperature) {
			s.MaxTemperature = proto.Uint32(*g.Temperature)
		}
	}
	if s.GpuCount > 0 {
		s.GpuUtilization = util / float64(s.GpuCount)
	}
	return s
}

// Rendered returns the machine's report as the documented API serves it,
// with is_online set. It is a shallow copy: its GPUs, system info and
// processes are those of the published state, so it must only be read.
// (A deep copy cost more than everything else in GET /api/gpu-stats.)
func (m *Machine) Rendered() *gpumonv1.Report {
	st := m.State()
	if st == nil || st.Report == nil {
		return nil
	}
	r := new(gpumonv1.Report)
	dst := r.ProtoReflect()
	st.Report.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		dst.Set(fd, v)
		return true
	})
	r.IsOnline = st.Online
	return r
}

// FreeGPUs lists GPUs matching the request, most free memory first.
func (f *Fleet) FreeGPUs(req *gpumonv1.ListFreeGpusRequest) []*gpumonv1.FreeGpu {
	maxUtil := uint32(100)
	if req.MaxUtilization != nil {
		maxUtil = req.GetMaxUtilization()
	}
	var out []*gpumonv1.FreeGpu
	for _, m := range f.List() {
		st := m.State()
		if !st.Online && !req.GetIncludeOffline() {
			continue
		}
		for _, g := range st.Report.GetGpuData() {
			free := g.GetMemoryTotal() - min(g.GetMemoryUsed(), g.GetMemoryTotal())
			if g.MemoryFree != nil {
				free = g.GetMemoryFree()
			}
			if g.GetError() != "" || free < req.GetMinFreeMemory() || g.GetUtilization() > maxUtil ||
				(req.GetIdle() && len(g.GetProcesses()) > 0) {
				continue
			}
			out = append(out, &gpumonv1.FreeGpu{
				Machine: m.Key, Hostname: m.Hostname, Index: g.GetId(), Uuid: g.GetUuid(), Name: g.GetName(),
				MemoryFree: free, MemoryTotal: g.GetMemoryTotal(), Utilization: g.Utilization,
				Temperature: g.Temperature, ProcessCount: uint32(len(g.GetProcesses())), Online: st.Online,
			})
		}
	}
	slices.SortStableFunc(out, func(a, b *gpumonv1.FreeGpu) int {
		return cmp.Or(
			cmp.Compare(b.MemoryFree, a.MemoryFree),
			cmp.Compare(a.GetUtilization(), b.GetUtilization()),
			cmp.Compare(a.ProcessCount, b.ProcessCount),
			cmp.Compare(a.Machine, b.Machine),
			cmp.Compare(a.Index, b.Index))
	})
	return out
}
