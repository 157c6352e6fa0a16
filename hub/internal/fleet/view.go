package fleet

import (
	"cmp"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/gpustate"
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
		g.PciBusId = cmp.Or(g.PciBusId, info.GetPciBusId())
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

// Summary computes a machine's at-a-glance figures from its current state.
func (m *Machine) Summary() *gpumonv1.MachineSummary { return m.SummaryOf(m.State()) }

// SummaryOf computes the machine's figures from st, one of its published
// states. A summary and a report served together come from one state (see
// RenderedOf), so they never disagree.
func (m *Machine) SummaryOf(st *State) *gpumonv1.MachineSummary {
	s := &gpumonv1.MachineSummary{Key: m.Key, Hostname: m.Hostname, MachineFingerprint: m.Fingerprint}
	if st == nil {
		return s
	}
	if st.ClockSkewed {
		s.ClockOffsetSeconds = proto.Float64(st.ClockOffset)
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
	s.Hub, s.Reconnecting = st.Hub, st.Reconnecting
	r := st.Report
	sys := r.GetSystemInfo()
	s.IpAddress = sys.GetIpAddress()
	s.CpuPercent = sys.GetCpuPercent()
	s.MemoryPercent = sys.GetMemoryPercent()
	s.DiskPercent = sys.GetDiskPercent()
	summarizeGPUs(s, r.GetGpuData())
	return s
}

// summarizeGPUs fills in the GPU figures of a summary.
func summarizeGPUs(s *gpumonv1.MachineSummary, gpus []*gpumonv1.Gpu) {
	free := gpustate.DefaultCriteria()
	var util float64
	for _, g := range gpus {
		s.GpuCount++
		s.GpuMemoryUsed += g.GetMemoryUsed()
		s.GpuMemoryTotal += g.GetMemoryTotal()
		if gpustate.Busy(g) {
			s.GpusBusy++
		}
		if gpustate.Free(free, g) {
			s.GpusFree++
		}
		if g.GetIdleHeld() {
			s.GpusIdleHeld++
		}
		util += float64(g.GetUtilization())
		if g.Temperature != nil && (s.MaxTemperature == nil || *g.Temperature > *s.MaxTemperature) {
			s.MaxTemperature = proto.Uint32(*g.Temperature)
		}
	}
	if s.GpuCount > 0 {
		s.GpuUtilization = util / float64(s.GpuCount)
	}
}

// Rendered returns the machine's current report as the documented API
// serves it (see RenderedOf).
func (m *Machine) Rendered() *gpumonv1.Report { return RenderedOf(m.State()) }

// RenderedOf returns st's report as the documented API serves it, with
// is_online set. It is a shallow copy: its GPUs, system info and processes
// are those of the published state, so it must only be read. (A deep copy
// cost more than everything else in GET /api/gpu-stats.)
func RenderedOf(st *State) *gpumonv1.Report {
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
	r.Hub, r.Reconnecting = st.Hub, st.Reconnecting
	return r
}

// FreeGPUs lists the GPUs that are free by c (as gpustate.Criteria returns
// it), best first.
func (f *Fleet) FreeGPUs(c *gpumonv1.ListFreeGpusRequest) []*gpumonv1.FreeGpu {
	var out []*gpumonv1.FreeGpu
	for _, m := range f.List() {
		st := m.State()
		if !st.Online && !c.GetIncludeOffline() {
			continue
		}
		for _, g := range st.Report.GetGpuData() {
			if gpustate.Free(c, g) {
				out = append(out, gpustate.FreeGPU(m.Key, m.Hostname, st.Online, g))
			}
		}
	}
	gpustate.SortFree(out)
	return out
}

// GPUs lists every GPU of the fleet's machines (all: offline ones' too) by
// machine key, then index.
func (f *Fleet) GPUs(all bool) []*gpumonv1.GpuRow {
	var out []*gpumonv1.GpuRow
	for _, m := range f.List() {
		st := m.State()
		if !st.Online && !all {
			continue
		}
		for _, g := range st.Report.GetGpuData() {
			out = append(out, gpustate.Row(m.Key, m.Hostname, st.Online, g))
		}
	}
	return out
}

// IdleGPUs lists the GPUs of online machines that are idle while held (all:
// also those not yet idle for the hub's --idle-after), longest first.
func (f *Fleet) IdleGPUs(all bool) []*gpumonv1.IdleGpu {
	now := f.now()
	var out []*gpumonv1.IdleGpu
	for _, m := range f.List() {
		st := m.State()
		if !st.Online {
			continue
		}
		for _, g := range st.Report.GetGpuData() {
			if g.GetIdleHeld() || (all && g.IdleSince != nil) {
				out = append(out, gpustate.IdleGPU(m.Key, m.Hostname, g, now))
			}
		}
	}
	slices.SortStableFunc(out, func(a, b *gpumonv1.IdleGpu) int {
		return cmp.Or(cmp.Compare(b.GetIdleSeconds(), a.GetIdleSeconds()), cmp.Compare(a.GetMachine(), b.GetMachine()),
			cmp.Compare(a.GetIndex(), b.GetIndex()))
	})
	return out
}

// Totals sums machine summaries. GPU figures count online machines only; an
// offline machine's GPUs are counted apart (gpus_offline).
func Totals(list []*gpumonv1.MachineSummary) *gpumonv1.FleetTotals {
	t := &gpumonv1.FleetTotals{}
	for _, s := range list {
		t.Machines++
		if !s.GetOnline() {
			t.MachinesOffline++
			t.GpusOffline += s.GetGpuCount()
			continue
		}
		t.MachinesOnline++
		t.Gpus += s.GetGpuCount()
		t.GpusBusy += s.GetGpusBusy()
		t.GpusFree += s.GetGpusFree()
		t.GpusIdleHeld += s.GetGpusIdleHeld()
		t.GpuMemoryUsed += float64(s.GetGpuMemoryUsed())
		t.GpuMemoryTotal += float64(s.GetGpuMemoryTotal())
	}
	return t
}
