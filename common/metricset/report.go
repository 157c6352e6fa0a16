package metricset

import (
	"strconv"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// Label is one label of a series.
type Label struct{ Name, Value string }

// Emit receives one value of one series: its metric name, its labels beyond
// the machine's (see MachineLabels), and the value. labels is only valid
// during the call.
type Emit func(name string, labels []Label, value float64)

// MachineLabels are the labels every series of a machine carries: Hostname
// as dcgm-exporter spells it, and machine, the hub's key (the hostname, or a
// disambiguated name when two machines claim one hostname).
func MachineLabels(key, hostname string) []Label {
	return []Label{{Name: "Hostname", Value: hostname}, {Name: "machine", Value: key}}
}

// WithBase returns an Emit that puts base in front of every series' labels
// before calling emit.
func WithBase(emit Emit, base []Label) Emit {
	buf := append([]Label(nil), base...)
	return func(name string, labels []Label, v float64) {
		buf = append(buf[:len(base)], labels...)
		emit(name, buf, v)
	}
}

// GPUIdentity are the labels that name one GPU, as dcgm-exporter writes
// them: gpu (the index), UUID, modelName and device ("nvidia0").
func GPUIdentity(index int32, uuid, model string) []Label {
	i := strconv.Itoa(int(index))
	return []Label{{Name: "gpu", Value: i}, {Name: "UUID", Value: uuid}, {Name: "modelName", Value: model},
		{Name: "device", Value: "nvidia" + i}}
}

// gpuLabels adds the PCI bus id and the driver version to a GPU's identity
// when they are known.
func gpuLabels(g *gpumonv1.Gpu, driver string) []Label {
	l := GPUIdentity(g.GetId(), g.GetUuid(), g.GetName())
	if g.GetPciBusId() != "" {
		l = append(l, Label{Name: "pci_bus_id", Value: g.GetPciBusId()})
	}
	if driver != "" {
		l = append(l, Label{Name: DriverVersionLabel, Value: driver})
	}
	return l
}

// GPU emits one GPU's series. A value the GPU did not report is left out,
// never written as zero; a GPU that could not be read has no series.
func GPU(emit Emit, g *gpumonv1.Gpu, driver string) {
	if g.GetError() != "" {
		return
	}
	l := gpuLabels(g, driver)
	add := func(name string, v float64) { emit(name, l, v) }
	addU := func(name string, v *uint32) {
		if v != nil {
			add(name, float64(*v))
		}
	}
	addF := func(name string, v *float64) {
		if v != nil {
			add(name, *v)
		}
	}
	addU(GPUUtil, g.Utilization)
	addU(GPUMemCopyUtil, g.MemoryUtilization)
	add(GPUFBUsed, float64(g.GetMemoryUsed()))
	add(GPUFBTotal, float64(g.GetMemoryTotal()))
	free := float64(g.GetMemoryTotal()) - float64(g.GetMemoryUsed())
	if g.MemoryFree != nil {
		free = float64(g.GetMemoryFree())
	}
	add(GPUFBFree, max(free, 0))
	addU(GPUTemp, g.Temperature)
	addU(GPUMemTemp, g.MemoryTemperature)
	addF(GPUPower, g.PowerDraw)
	addF(GPUPowerLimit, g.PowerLimit)
	addF(GPUEnergy, g.EnergyConsumption)
	addU(GPUSMClock, g.SmClock)
	addU(GPUMemClock, g.MemoryClock)
	addU(GPUFan, g.FanSpeed)
	addU(GPUPState, g.PerformanceState)
	addU(GPUECCCorrected, g.EccErrorsCorrected)
	addU(GPUECCUncorrect, g.EccErrorsUncorrected)
	addU(GPUEncUtil, g.EncoderUtilization)
	addU(GPUDecUtil, g.DecoderUtilization)
	addU(GPUPCIeGen, g.PcieGeneration)
	addU(GPUPCIeWidth, g.PcieWidth)
	addU(GPUPCIeTx, g.PcieTxThroughput)
	addU(GPUPCIeRx, g.PcieRxThroughput)
	addU(GPUPCIeReplay, g.PcieReplayCounter)
	addF(GPUNVLink, g.NvlinkBandwidthTotal)
	if rr := g.GetRemappedRows(); rr != nil {
		add(GPURemapCorrected, float64(rr.GetCorrectable()))
		add(GPURemapUncorrected, float64(rr.GetUncorrectable()))
		add(GPURemapFailure, boolValue(rr.GetFailure()))
		add(GPURemapPending, boolValue(rr.GetPending()))
	}
	if a := g.GetActivity(); a != nil {
		addF(GPUGraphicsActive, a.Graphics)
		addF(GPUSMActive, a.Sm)
		addF(GPUSMOccupancy, a.SmOccupancy)
		addF(GPUTensorActive, a.Tensor)
		addF(GPUDRAMActive, a.Dram)
	}
	if g.XidErrors != nil {
		add(GPUXIDLast, float64(g.GetLastXid()))
		add(GPUXIDTotal, float64(g.GetXidErrors()))
	}
	add(GPUProcesses, float64(len(g.GetProcesses())))
	smByUser(emit, l, g)
}

// smByUser emits, per user with a process on g that reports its SM
// utilisation, the sum of those figures (the agent reports them where NVML
// does). PIDs are never labels, so this is as fine as series go.
func smByUser(emit Emit, gpu []Label, g *gpumonv1.Gpu) {
	var users []string
	sm := map[string]float64{}
	for _, p := range g.GetProcesses() {
		if p.SmUtilization == nil {
			continue
		}
		name := userOf(p)
		if _, ok := sm[name]; !ok {
			users = append(users, name)
		}
		sm[name] += float64(p.GetSmUtilization())
	}
	l := append(gpu[:len(gpu):len(gpu)], Label{})
	for _, u := range users {
		l[len(l)-1] = UserLabel(u)
		emit(UserGPUSMUtil, l, sm[u])
	}
}

// userOf names a process's user, UnknownUser when the report does not.
func userOf(p *gpumonv1.Process) string {
	if u := p.GetUsername(); u != "" {
		return u
	}
	return UnknownUser
}

// Machine emits the machine-level series.
func Machine(emit Emit, s *gpumonv1.SystemInfo) {
	if s == nil {
		return
	}
	add := func(name string, v float64) { emit(name, nil, v) }
	add(MachineCPU, s.GetCpuPercent())
	add(MachineMemUsed, s.GetMemoryUsed())
	add(MachineMemTotal, s.GetMemoryTotal())
	add(MachineMemPct, s.GetMemoryPercent())
	add(MachineDiskUsed, s.GetDiskUsed())
	add(MachineDiskTotal, s.GetDiskTotal())
	add(MachineDiskPct, s.GetDiskPercent())
	if l := s.GetLoad(); l != nil {
		add(MachineLoad1, l.GetLoad1())
		add(MachineLoad5, l.GetLoad5())
		add(MachineLoad15, l.GetLoad15())
	}
}

// Report emits a report's current values: every GPU, the machine, and the
// GPUs and GPU memory per user and per container.
func Report(emit Emit, r *gpumonv1.Report) {
	for _, g := range r.GetGpuData() {
		GPU(emit, g, r.GetDriverVersion())
	}
	Machine(emit, r.GetSystemInfo())
	use := UsageOf(r)
	for u, n := range use.GPUs {
		ul := []Label{UserLabel(u)}
		emit(UserGPUs, ul, float64(n))
		emit(UserGPUMemory, ul, use.Mem[u])
	}
	for c, v := range Containers(r) {
		emit(ContainerGPUMem, []Label{{Name: "container", Value: c}}, v)
	}
}

// Collectors emits how each of the agent's collectors fared for the sample.
// A source that does not exist here (no Docker daemon, no driver) is no
// failure.
func Collectors(emit Emit, r *gpumonv1.Report) {
	for _, c := range r.GetCollectors() {
		l := []Label{{Name: "collector", Value: c.GetName()}}
		st := c.GetState()
		emit(CollectorSeconds, l, c.GetDurationSeconds())
		emit(CollectorSuccess, l, boolValue(st == gpumonv1.CollectorState_COLLECTOR_STATE_OK ||
			st == gpumonv1.CollectorState_COLLECTOR_STATE_UNAVAILABLE))
	}
}

// UserLabel is the label of per-user series.
func UserLabel(user string) Label { return Label{Name: "user", Value: user} }

// Usage is what one report says about who uses the machine's GPUs.
type Usage struct {
	// Per user: GPUs holding one of their processes, and MiB they hold.
	GPUs map[string]int
	Mem  map[string]float64
	// The machine: GPUs with any process, and MiB processes hold. Mem sums
	// to Memory, so memory accounting adds up; GPUs shared by users are
	// counted once for the machine and once for each user.
	Busy   int
	Memory float64
}

// UsageOf reads a report's GPU use. Processes without a user count as
// UnknownUser's.
func UsageOf(r *gpumonv1.Report) Usage {
	u := Usage{GPUs: map[string]int{}, Mem: map[string]float64{}}
	for _, g := range r.GetGpuData() {
		if len(g.GetProcesses()) > 0 {
			u.Busy++
		}
		on := map[string]bool{}
		for _, p := range g.GetProcesses() {
			name := userOf(p)
			u.Mem[name] += float64(p.GetGpuMemoryUsage())
			u.Memory += float64(p.GetGpuMemoryUsage())
			on[name] = true
		}
		for name := range on {
			u.GPUs[name]++
		}
	}
	return u
}

// Containers sums GPU memory (MiB) per container.
func Containers(r *gpumonv1.Report) map[string]float64 {
	out := map[string]float64{}
	for _, p := range r.GetSystemInfo().GetProcesses() {
		if p.GetIsGpuProcess() && p.GetContainerId() != "" {
			out[p.GetContainerId()] += float64(p.GetGpuMemoryUsage())
		}
	}
	return out
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
