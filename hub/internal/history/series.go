// Package history stores every sample of the fleet in an embedded Prometheus
// TSDB and answers queries over it with the PromQL engine.
//
// Metric names follow NVIDIA's dcgm-exporter where one exists
// (DCGM_FI_DEV_GPU_UTIL, DCGM_FI_DEV_FB_USED, ...), with its labels
// Hostname, gpu, UUID and modelName, plus "machine" (the hub's key, which
// differs from Hostname only when two machines claim one hostname). Labels
// never hold a PID or a command line, so cardinality stays bounded by GPUs,
// users and containers.
package history

import (
	"strconv"

	"github.com/prometheus/prometheus/model/labels"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// Metric names.
const (
	GPUUtil          = "DCGM_FI_DEV_GPU_UTIL"
	GPUMemCopyUtil   = "DCGM_FI_DEV_MEM_COPY_UTIL"
	GPUFBUsed        = "DCGM_FI_DEV_FB_USED"
	GPUFBFree        = "DCGM_FI_DEV_FB_FREE"
	GPUFBTotal       = "DCGM_FI_DEV_FB_TOTAL"
	GPUTemp          = "DCGM_FI_DEV_GPU_TEMP"
	GPUPower         = "DCGM_FI_DEV_POWER_USAGE"
	GPUPowerLimit    = "DCGM_FI_DEV_POWER_MGMT_LIMIT"
	GPUSMClock       = "DCGM_FI_DEV_SM_CLOCK"
	GPUMemClock      = "DCGM_FI_DEV_MEM_CLOCK"
	GPUFan           = "DCGM_FI_DEV_FAN_SPEED"
	GPUPState        = "DCGM_FI_DEV_PSTATE"
	GPUECCCorrected  = "DCGM_FI_DEV_ECC_SBE_VOL_TOTAL"
	GPUECCUncorrect  = "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL"
	GPUEncUtil       = "DCGM_FI_DEV_ENC_UTIL"
	GPUDecUtil       = "DCGM_FI_DEV_DEC_UTIL"
	GPUPCIeGen       = "DCGM_FI_DEV_PCIE_LINK_GEN"
	GPUPCIeWidth     = "DCGM_FI_DEV_PCIE_LINK_WIDTH"
	GPUProcesses     = "gpumon_gpu_processes"
	GPUIdleHeld      = "gpumon_gpu_idle_held_seconds"
	MachineCPU       = "gpumon_machine_cpu_percent"
	MachineMemUsed   = "gpumon_machine_memory_used_bytes"
	MachineMemTotal  = "gpumon_machine_memory_total_bytes"
	MachineMemPct    = "gpumon_machine_memory_percent"
	MachineDiskUsed  = "gpumon_machine_disk_used_bytes"
	MachineDiskTotal = "gpumon_machine_disk_total_bytes"
	MachineDiskPct   = "gpumon_machine_disk_percent"
	MachineLoad1     = "gpumon_machine_load1"
	MachineLoad5     = "gpumon_machine_load5"
	MachineLoad15    = "gpumon_machine_load15"
	MachineOnline    = "gpumon_machine_online"
	MachineGPUSecs   = "gpumon_machine_gpu_busy_seconds_total"
	UserGPUMemory    = "gpumon_user_gpu_memory_mib"
	UserGPUs         = "gpumon_user_gpus"
	UserGPUSecs      = "gpumon_user_gpu_seconds_total"
	UserGPUMemSecs   = "gpumon_user_gpu_memory_mib_seconds_total"
	UserGPUSMUtil    = "gpumon_user_gpu_sm_utilization_percent"
	ContainerGPUMem  = "gpumon_container_gpu_memory_mib"
	AgentSeq         = "gpumon_agent_seq"
)

// The machines' GPU memory counter, and what each sample adds to the
// accounting counters (the counter's name with _delta for _total): summed
// with sum_over_time they give exact totals over any range, where increase()
// on the counters extrapolates.
const (
	MachineGPUMemSecs      = "gpumon_machine_gpu_memory_mib_seconds_total"
	MachineGPUSecsDelta    = "gpumon_machine_gpu_busy_seconds_delta"
	MachineGPUMemSecsDelta = "gpumon_machine_gpu_memory_mib_seconds_delta"
	UserGPUSecsDelta       = "gpumon_user_gpu_seconds_delta"
	UserGPUMemSecsDelta    = "gpumon_user_gpu_memory_mib_seconds_delta"
)

// Friendly names accepted by the native history route, and the series they
// stand for.
var Friendly = map[string]string{
	"gpu_utilization":         GPUUtil,
	"gpu_memory_utilization":  GPUMemCopyUtil,
	"gpu_memory_used":         GPUFBUsed,
	"gpu_memory_free":         GPUFBFree,
	"gpu_memory_total":        GPUFBTotal,
	"gpu_temperature":         GPUTemp,
	"gpu_power":               GPUPower,
	"gpu_power_limit":         GPUPowerLimit,
	"gpu_sm_clock":            GPUSMClock,
	"gpu_memory_clock":        GPUMemClock,
	"gpu_fan_speed":           GPUFan,
	"gpu_ecc_corrected":       GPUECCCorrected,
	"gpu_ecc_uncorrected":     GPUECCUncorrect,
	"gpu_encoder_utilization": GPUEncUtil,
	"gpu_decoder_utilization": GPUDecUtil,
	"gpu_performance_state":   GPUPState,
	"gpu_pcie_generation":     GPUPCIeGen,
	"gpu_pcie_width":          GPUPCIeWidth,
	"gpu_processes":           GPUProcesses,
	"gpu_idle_held":           GPUIdleHeld,
	"user_gpu_sm_utilization": UserGPUSMUtil,
	"cpu_percent":             MachineCPU,
	"memory_used":             MachineMemUsed,
	"memory_percent":          MachineMemPct,
	"disk_used":               MachineDiskUsed,
	"disk_percent":            MachineDiskPct,
	"load1":                   MachineLoad1,
	"online":                  MachineOnline,
	"user_gpu_memory":         UserGPUMemory,
	"container_gpu_memory":    ContainerGPUMem,
}

// sample is one value of one series.
type sample struct {
	lset  labels.Labels
	value float64
}

// machineLabels are the labels every series of a machine carries.
func machineLabels(key, hostname string) []labels.Label {
	return []labels.Label{{Name: "Hostname", Value: hostname}, {Name: "machine", Value: key}}
}

func series(name string, base []labels.Label, extra ...labels.Label) labels.Labels {
	b := labels.NewScratchBuilder(len(base) + len(extra) + 1)
	b.Add(labels.MetricName, name)
	for _, l := range base {
		b.Add(l.Name, l.Value)
	}
	for _, l := range extra {
		b.Add(l.Name, l.Value)
	}
	b.Sort()
	return b.Labels()
}

// gpuLabels are the labels of a GPU's series besides the machine's.
func gpuLabels(g *gpumonv1.Gpu) []labels.Label {
	return []labels.Label{{Name: "gpu", Value: strconv.Itoa(int(g.GetId()))}, {Name: "UUID", Value: g.GetUuid()}, {Name: "modelName", Value: g.GetName()}}
}

// gpuSamples turns one GPU's figures into samples.
func gpuSamples(out []sample, base []labels.Label, g *gpumonv1.Gpu) []sample {
	gl := append(append([]labels.Label(nil), base...), gpuLabels(g)...)
	add := func(name string, v float64) { out = append(out, sample{series(name, gl), v}) }
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
	if g.GetError() != "" {
		return out
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
	addF(GPUPower, g.PowerDraw)
	addF(GPUPowerLimit, g.PowerLimit)
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
	add(GPUProcesses, float64(len(g.GetProcesses())))
	return smByUser(out, gl, g)
}

// smByUser adds, per user with a process on g that reports its SM
// utilisation, the sum of those figures (the agent reports them where NVML
// does). PIDs are never labels, so this is as fine as history goes.
func smByUser(out []sample, gl []labels.Label, g *gpumonv1.Gpu) []sample {
	var users []string
	sm := map[string]float64{}
	for _, p := range g.GetProcesses() {
		if p.SmUtilization == nil {
			continue
		}
		name := p.GetUsername()
		if name == "" {
			name = UnknownUser
		}
		if _, ok := sm[name]; !ok {
			users = append(users, name)
		}
		sm[name] += float64(p.GetSmUtilization())
	}
	for _, u := range users {
		out = append(out, sample{series(UserGPUSMUtil, gl, labels.Label{Name: "user", Value: u}), sm[u]})
	}
	return out
}

// machineSamples turns the machine-level figures into samples.
func machineSamples(out []sample, base []labels.Label, s *gpumonv1.SystemInfo) []sample {
	if s == nil {
		return out
	}
	add := func(name string, v float64) { out = append(out, sample{series(name, base), v}) }
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
	return out
}
