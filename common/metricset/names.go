// Package metricset is the one mapping from a gpumon report to Prometheus
// series: metric names (NVIDIA dcgm-exporter's where one exists), labels,
// HELP and TYPE. The hub's history and /metrics and the agent's
// --metrics-addr all use it, so a dashboard reads the same series from
// either.
package metricset

import (
	"slices"
	"strings"
)

// Metric names of GPU series, dcgm-exporter's.
const (
	GPUUtil             = "DCGM_FI_DEV_GPU_UTIL"
	GPUMemCopyUtil      = "DCGM_FI_DEV_MEM_COPY_UTIL"
	GPUFBUsed           = "DCGM_FI_DEV_FB_USED"
	GPUFBFree           = "DCGM_FI_DEV_FB_FREE"
	GPUFBTotal          = "DCGM_FI_DEV_FB_TOTAL"
	GPUTemp             = "DCGM_FI_DEV_GPU_TEMP"
	GPUMemTemp          = "DCGM_FI_DEV_MEMORY_TEMP"
	GPUPower            = "DCGM_FI_DEV_POWER_USAGE"
	GPUPowerLimit       = "DCGM_FI_DEV_POWER_MGMT_LIMIT"
	GPUEnergy           = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"
	GPUSMClock          = "DCGM_FI_DEV_SM_CLOCK"
	GPUMemClock         = "DCGM_FI_DEV_MEM_CLOCK"
	GPUFan              = "DCGM_FI_DEV_FAN_SPEED"
	GPUPState           = "DCGM_FI_DEV_PSTATE"
	GPUECCCorrected     = "DCGM_FI_DEV_ECC_SBE_VOL_TOTAL"
	GPUECCUncorrect     = "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL"
	GPUEncUtil          = "DCGM_FI_DEV_ENC_UTIL"
	GPUDecUtil          = "DCGM_FI_DEV_DEC_UTIL"
	GPUPCIeGen          = "DCGM_FI_DEV_PCIE_LINK_GEN"
	GPUPCIeWidth        = "DCGM_FI_DEV_PCIE_LINK_WIDTH"
	GPUPCIeTx           = "DCGM_FI_DEV_PCIE_TX_THROUGHPUT"
	GPUPCIeRx           = "DCGM_FI_DEV_PCIE_RX_THROUGHPUT"
	GPUPCIeReplay       = "DCGM_FI_DEV_PCIE_REPLAY_COUNTER"
	GPUNVLink           = "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL"
	GPURemapCorrected   = "DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS"
	GPURemapUncorrected = "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS"
	GPURemapFailure     = "DCGM_FI_DEV_ROW_REMAP_FAILURE"
	GPURemapPending     = "DCGM_FI_DEV_ROW_REMAP_PENDING"
	GPUGraphicsActive   = "DCGM_FI_PROF_GR_ENGINE_ACTIVE"
	GPUSMActive         = "DCGM_FI_PROF_SM_ACTIVE"
	GPUSMOccupancy      = "DCGM_FI_PROF_SM_OCCUPANCY"
	GPUTensorActive     = "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE"
	GPUDRAMActive       = "DCGM_FI_PROF_DRAM_ACTIVE"
	GPUProcesses        = "gpumon_gpu_processes"
	GPUIdleHeld         = "gpumon_gpu_idle_held_seconds"
	// GPUXIDLast is dcgm-exporter's: the last Xid critical error's number
	// (0 before any); GPUXIDTotal counts them since the agent started.
	GPUXIDLast  = "DCGM_FI_DEV_XID_ERRORS"
	GPUXIDTotal = "gpumon_gpu_xid_errors_total"
	// GPUFree is 1 for a GPU free by the hub's definition, else 0 (the hub
	// writes it).
	GPUFree = "gpumon_gpu_free"
	// DriverVersionLabel is the label, as in dcgm-exporter, that carries
	// the driver version on every GPU series.
	DriverVersionLabel = "DCGM_FI_DRIVER_VERSION"
)

// Metric names of machine, user and container series, gpumon's own.
const (
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
	// MachineUp is the hub's view of a machine by its own clock (the hub
	// writes it), as Prometheus' up is of a target.
	MachineUp        = "gpumon_machine_up"
	MachineGPUSecs   = "gpumon_machine_gpu_busy_seconds_total"
	UserGPUMemory    = "gpumon_user_gpu_memory_mib"
	UserGPUs         = "gpumon_user_gpus"
	UserGPUSecs      = "gpumon_user_gpu_seconds_total"
	UserGPUMemSecs   = "gpumon_user_gpu_memory_mib_seconds_total"
	UserGPUSMUtil    = "gpumon_user_gpu_sm_utilization_percent"
	ContainerGPUMem  = "gpumon_container_gpu_memory_mib"
	AgentSeq         = "gpumon_agent_seq"
	CollectorSeconds = "gpumon_agent_collector_duration_seconds"
	CollectorSuccess = "gpumon_agent_collector_success"
)

// The machines' GPU memory counter, and what each sample adds to the
// accounting counters (the counter's name with _delta for _total): summed
// with sum_over_time they give exact totals over any range, where increase()
// on the counters extrapolates. The hub's history writes them.
const (
	MachineGPUMemSecs      = "gpumon_machine_gpu_memory_mib_seconds_total"
	MachineGPUSecsDelta    = "gpumon_machine_gpu_busy_seconds_delta"
	MachineGPUMemSecsDelta = "gpumon_machine_gpu_memory_mib_seconds_delta"
	UserGPUSecsDelta       = "gpumon_user_gpu_seconds_delta"
	UserGPUMemSecsDelta    = "gpumon_user_gpu_memory_mib_seconds_delta"
)

// UnknownUser names the owner of GPU processes whose user the report does
// not tell (a process in another PID namespace, or a report without users).
const UnknownUser = "unknown"

// Type is a metric family's Prometheus type.
type Type string

// The types gpumon's series have.
const (
	Gauge   Type = "gauge"
	Counter Type = "counter"
)

// Family is what /metrics declares of one metric name: its TYPE and HELP.
type Family struct {
	Name string
	Type Type
	Help string
}

// families lists every series gpumon writes, sorted by name for Lookup.
var families = sortedByName([]Family{
	{GPUEnergy, Counter, "Total energy consumption since the driver was loaded (in mJ)."},
	{GPURemapCorrected, Counter, "Number of remapped rows for correctable errors."},
	{GPUDecUtil, Gauge, "Decoder utilization (in %)."},
	{GPUECCUncorrect, Counter, "Total number of double-bit (uncorrected) volatile ECC errors."},
	{GPUECCCorrected, Counter, "Total number of single-bit (corrected) volatile ECC errors."},
	{GPUEncUtil, Gauge, "Encoder utilization (in %)."},
	{GPUFan, Gauge, "Fan speed (in %)."},
	{GPUFBFree, Gauge, "Framebuffer memory free (in MiB)."},
	{GPUFBTotal, Gauge, "Framebuffer memory total (in MiB)."},
	{GPUFBUsed, Gauge, "Framebuffer memory used (in MiB)."},
	{GPUTemp, Gauge, "GPU temperature (in C)."},
	{GPUUtil, Gauge, "GPU utilization (in %)."},
	{GPUMemClock, Gauge, "Memory clock frequency (in MHz)."},
	{GPUMemCopyUtil, Gauge, "Memory utilization (in %)."},
	{GPUMemTemp, Gauge, "Memory temperature (in C)."},
	{GPUNVLink, Counter, "NVLink data sent and received over all links since the driver was loaded (in KiB)."},
	{GPUPCIeReplay, Counter, "Total number of PCIe retries."},
	{GPUPCIeGen, Gauge, "PCIe current link generation."},
	{GPUPCIeWidth, Gauge, "PCIe current link width (lanes)."},
	{GPUPCIeRx, Gauge, "PCIe RX throughput, measured by NVML over 20 ms (in KB/s)."},
	{GPUPCIeTx, Gauge, "PCIe TX throughput, measured by NVML over 20 ms (in KB/s)."},
	{GPUPowerLimit, Gauge, "Power management limit (in W)."},
	{GPUPower, Gauge, "Power draw (in W)."},
	{GPUPState, Gauge, "Performance state (0 = P0, fastest)."},
	{GPURemapFailure, Gauge, "Whether remapping of rows has failed (1) or not (0)."},
	{GPURemapPending, Gauge, "Whether a row remapping waits for the next GPU reset (1) or not (0)."},
	{GPUSMClock, Gauge, "SM clock frequency (in MHz)."},
	{GPURemapUncorrected, Counter, "Number of remapped rows for uncorrectable errors."},
	{GPUDRAMActive, Gauge, "Ratio of time the device memory interface is active sending or receiving data."},
	{GPUGraphicsActive, Gauge, "Ratio of time the graphics or compute engine is active."},
	{GPUTensorActive, Gauge, "Ratio of time any tensor core pipe is active."},
	{GPUSMActive, Gauge, "Ratio of time at least one warp is resident on an SM, averaged over all SMs."},
	{GPUSMOccupancy, Gauge, "Ratio of warps resident on the SMs to the maximum they hold."},
	{AgentSeq, Gauge, "Sequence number of the agent's latest snapshot (gaps show lost samples)."},
	{CollectorSeconds, Gauge, "How long the agent's collector took for the latest sample (in s)."},
	{CollectorSuccess, Gauge, "Whether the agent's collector ran without error or timeout for the latest sample (1) or not (0); an absent source (no Docker, no driver) is no failure."},
	{ContainerGPUMem, Gauge, "GPU memory held by the container's processes (in MiB)."},
	{GPUIdleHeld, Gauge, "Seconds the GPU has held memory while doing no work (0 when busy or free)."},
	{GPUXIDLast, Gauge, "Value of the last XID error encountered."},
	{GPUXIDTotal, Counter, "Xid critical errors NVML reported for the GPU since the agent started watching."},
	{GPUFree, Gauge, "1 when the GPU is free by the hub's definition (no compute process, utilization at most 10 %, at least 90 % of its memory free), else 0."},
	{MachineUp, Gauge, "1 while the hub counts the machine online, 0 while it is offline, by the hub's clock."},
	{GPUProcesses, Gauge, "Processes running on the GPU."},
	{MachineCPU, Gauge, "CPU utilization of all cores (in %)."},
	{MachineDiskPct, Gauge, "Root filesystem used (in %)."},
	{MachineDiskTotal, Gauge, "Root filesystem size (in bytes)."},
	{MachineDiskUsed, Gauge, "Root filesystem used (in bytes)."},
	{MachineGPUSecs, Counter, "Seconds of GPU time with at least one process, summed over the machine's GPUs."},
	{MachineGPUSecsDelta, Gauge, "GPU seconds with at least one process that this sample added to the machine's counter."},
	{MachineGPUMemSecs, Counter, "GPU memory held by the machine's processes, integrated over time (in MiB seconds)."},
	{MachineGPUMemSecsDelta, Gauge, "MiB seconds of GPU memory that this sample added to the machine's counter."},
	{MachineLoad1, Gauge, "Load average over 1 minute."},
	{MachineLoad15, Gauge, "Load average over 15 minutes."},
	{MachineLoad5, Gauge, "Load average over 5 minutes."},
	{MachineMemPct, Gauge, "Memory used (in %)."},
	{MachineMemTotal, Gauge, "Memory size (in bytes)."},
	{MachineMemUsed, Gauge, "Memory used (in bytes)."},
	{MachineOnline, Gauge, "1 when the machine's agent reports, 0 when it is offline."},
	{UserGPUMemory, Gauge, "GPU memory held by the user's processes (in MiB)."},
	{UserGPUMemSecs, Counter, "GPU memory held by the user's processes, integrated over time (in MiB seconds)."},
	{UserGPUSecs, Counter, "Seconds of GPU time the user's processes held, one per GPU."},
	{UserGPUSecsDelta, Gauge, "GPU seconds that this sample added to the user's counter."},
	{UserGPUMemSecsDelta, Gauge, "MiB seconds of GPU memory that this sample added to the user's counter."},
	{UserGPUSMUtil, Gauge, "SM utilization of a user's processes on the GPU, summed (in %), where the driver reports it per process."},
	{UserGPUs, Gauge, "GPUs with at least one of the user's processes."},
})

func sortedByName(fs []Family) []Family {
	slices.SortFunc(fs, func(a, b Family) int { return strings.Compare(a.Name, b.Name) })
	return fs
}

// Families returns every family, sorted by name.
func Families() []Family { return slices.Clone(families) }

// Lookup returns the family of a metric name.
func Lookup(name string) (Family, bool) {
	i, ok := slices.BinarySearchFunc(families, name, func(f Family, n string) int { return strings.Compare(f.Name, n) })
	if !ok {
		return Family{}, false
	}
	return families[i], true
}
