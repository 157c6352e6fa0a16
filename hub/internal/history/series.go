// Package history stores every sample of the fleet in an embedded Prometheus
// TSDB and answers queries over it with the PromQL engine.
//
// Names and labels come from package metricset: NVIDIA dcgm-exporter's
// where one exists (DCGM_FI_DEV_GPU_UTIL, DCGM_FI_DEV_FB_USED, ...; labels
// Hostname, gpu, UUID, modelName, device, pci_bus_id and
// DCGM_FI_DRIVER_VERSION), plus "machine" (the hub's key, which differs
// from Hostname only when two machines claim one hostname). Labels never
// hold a PID or a command line, so cardinality stays bounded by GPUs, users
// and containers.
package history

import (
	"github.com/prometheus/prometheus/model/labels"

	"github.com/gpumon/gpumon/common/metricset"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// Metric names (see package metricset).
const (
	GPUUtil                = metricset.GPUUtil
	GPUMemCopyUtil         = metricset.GPUMemCopyUtil
	GPUFBUsed              = metricset.GPUFBUsed
	GPUFBFree              = metricset.GPUFBFree
	GPUFBTotal             = metricset.GPUFBTotal
	GPUTemp                = metricset.GPUTemp
	GPUPower               = metricset.GPUPower
	GPUPowerLimit          = metricset.GPUPowerLimit
	GPUSMClock             = metricset.GPUSMClock
	GPUMemClock            = metricset.GPUMemClock
	GPUFan                 = metricset.GPUFan
	GPUPState              = metricset.GPUPState
	GPUECCCorrected        = metricset.GPUECCCorrected
	GPUECCUncorrect        = metricset.GPUECCUncorrect
	GPUEncUtil             = metricset.GPUEncUtil
	GPUDecUtil             = metricset.GPUDecUtil
	GPUPCIeGen             = metricset.GPUPCIeGen
	GPUPCIeWidth           = metricset.GPUPCIeWidth
	GPUProcesses           = metricset.GPUProcesses
	GPUIdleHeld            = metricset.GPUIdleHeld
	GPUXIDLast             = metricset.GPUXIDLast
	GPUXIDTotal            = metricset.GPUXIDTotal
	GPUFree                = metricset.GPUFree
	MachineUp              = metricset.MachineUp
	MachineCPU             = metricset.MachineCPU
	MachineMemUsed         = metricset.MachineMemUsed
	MachineMemTotal        = metricset.MachineMemTotal
	MachineMemPct          = metricset.MachineMemPct
	MachineDiskUsed        = metricset.MachineDiskUsed
	MachineDiskTotal       = metricset.MachineDiskTotal
	MachineDiskPct         = metricset.MachineDiskPct
	MachineLoad1           = metricset.MachineLoad1
	MachineLoad5           = metricset.MachineLoad5
	MachineLoad15          = metricset.MachineLoad15
	MachineOnline          = metricset.MachineOnline
	MachineGPUSecs         = metricset.MachineGPUSecs
	UserGPUMemory          = metricset.UserGPUMemory
	UserGPUs               = metricset.UserGPUs
	UserGPUSecs            = metricset.UserGPUSecs
	UserGPUMemSecs         = metricset.UserGPUMemSecs
	UserGPUSMUtil          = metricset.UserGPUSMUtil
	ContainerGPUMem        = metricset.ContainerGPUMem
	AgentSeq               = metricset.AgentSeq
	MachineGPUMemSecs      = metricset.MachineGPUMemSecs
	MachineGPUSecsDelta    = metricset.MachineGPUSecsDelta
	MachineGPUMemSecsDelta = metricset.MachineGPUMemSecsDelta
	UserGPUSecsDelta       = metricset.UserGPUSecsDelta
	UserGPUMemSecsDelta    = metricset.UserGPUMemSecsDelta
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
	"gpu_xid":                 GPUXIDLast,
	"gpu_free":                GPUFree,
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
	return toLabels(nil, metricset.MachineLabels(key, hostname))
}

// toLabels appends l to dst as Prometheus labels.
func toLabels(dst []labels.Label, l []metricset.Label) []labels.Label {
	for _, x := range l {
		dst = append(dst, labels.Label(x))
	}
	return dst
}

// series is one series' labels. A label with an empty value is left out,
// as Prometheus does: to PromQL it is no label at all.
func series(name string, base []labels.Label, extra ...labels.Label) labels.Labels {
	b := labels.NewScratchBuilder(len(base) + len(extra) + 1)
	b.Add(labels.MetricName, name)
	for _, set := range [2][]labels.Label{base, extra} {
		for _, l := range set {
			if l.Value != "" {
				b.Add(l.Name, l.Value)
			}
		}
	}
	b.Sort()
	return b.Labels()
}

// emitTo returns a metricset.Emit that appends to *out under the machine's
// base labels.
func emitTo(out *[]sample, base []labels.Label) metricset.Emit {
	var extra []labels.Label
	return func(name string, l []metricset.Label, v float64) {
		extra = toLabels(extra[:0], l)
		*out = append(*out, sample{series(name, base, extra...), v})
	}
}

// gpuSamples turns one GPU's figures into samples.
func gpuSamples(out []sample, base []labels.Label, g *gpumonv1.Gpu, driver string) []sample {
	metricset.GPU(emitTo(&out, base), g, driver)
	free(emitTo(&out, base), g)
	return out
}

// machineSamples turns the machine-level figures into samples.
func machineSamples(out []sample, base []labels.Label, s *gpumonv1.SystemInfo) []sample {
	metricset.Machine(emitTo(&out, base), s)
	return out
}
