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
	"hash/maphash"
	"slices"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

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

// friendly holds the names the native history route accepts, and the
// series they stand for.
var friendly = map[string]string{
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

// sample is one value of one series; kept, when not nil, is the series'
// entry in its machine's cache, which learns the TSDB's reference.
type sample struct {
	lset  labels.Labels
	value float64
	kept  *keptSeries
}

// keptSeries is a series of one machine as the hub keeps it between
// snapshots: its labels, built once, and the TSDB's reference to it.
type keptSeries struct {
	name  string
	extra []metricset.Label // the labels it was asked for, beyond the machine's
	lset  labels.Labels
	ref   storage.SeriesRef
	gen   uint64 // the store generation ref belongs to; 0: none yet
	used  uint64 // the cache's snapshot count when last used
}

// seriesCache is one machine's series by a hash of name and labels, so a
// sample costs a lookup instead of building, sorting and finding its labels.
// It is dropped with the machine; a series unused for keepSnapshots
// snapshots (a container or user gone) is dropped before.
//
// A machine's snapshots ask for much the same series in the same order, so
// the series asked for at the same place in the last snapshot is tried
// first, before hashing.
type seriesCache struct {
	base      []labels.Label
	byHash    map[uint64][]*keptSeries
	snapshots uint64
	// last is the series of the last snapshot in the order asked; this,
	// those of this snapshot so far.
	last, this []*keptSeries
}

const keepSnapshots = 256

// done ends a snapshot: every keepSnapshots, series it has not used for
// that long are dropped.
func (c *seriesCache) done() {
	// The buffer of the snapshot before is this snapshot's next: it keeps
	// no series alive (one may be dropped below), and one far larger than
	// a snapshot's needs is let go.
	buf := c.last[:cap(c.last)]
	clear(buf)
	if cap(buf) > 2*len(c.this)+64 {
		buf = nil
	}
	c.last, c.this = c.this, buf[:0]
	c.snapshots++
	if c.snapshots%keepSnapshots != 0 {
		return
	}
	for h, list := range c.byHash {
		list = slices.DeleteFunc(list, func(k *keptSeries) bool { return c.snapshots-k.used > keepSnapshots })
		if len(list) == 0 {
			delete(c.byHash, h)
		} else {
			c.byHash[h] = list
		}
	}
}

// len is how many series are kept.
func (c *seriesCache) len() int {
	n := 0
	for _, list := range c.byHash {
		n += len(list)
	}
	return n
}

func newSeriesCache(key, hostname string) *seriesCache {
	return &seriesCache{base: machineLabels(key, hostname), byHash: map[uint64][]*keptSeries{}}
}

var seriesSeed = maphash.MakeSeed()

// sample returns a sample of the series name{extra}, under the machine's
// labels.
func (c *seriesCache) sample(name string, extra []metricset.Label, v float64) sample {
	if i := len(c.this); i < len(c.last) {
		if k := c.last[i]; k.name == name && slices.Equal(k.extra, extra) {
			return c.use(k, v)
		}
	}
	var h maphash.Hash
	h.SetSeed(seriesSeed)
	h.WriteString(name)
	for _, l := range extra {
		h.WriteByte(0xff)
		h.WriteString(l.Name)
		h.WriteByte(0xfe)
		h.WriteString(l.Value)
	}
	sum := h.Sum64()
	for _, k := range c.byHash[sum] {
		if k.name == name && slices.Equal(k.extra, extra) {
			return c.use(k, v)
		}
	}
	k := &keptSeries{name: name, extra: slices.Clone(extra), lset: series(name, c.base, toLabels(nil, extra)...)}
	c.byHash[sum] = append(c.byHash[sum], k)
	return c.use(k, v)
}

// use is a sample of k, which this snapshot asks for next.
func (c *seriesCache) use(k *keptSeries, v float64) sample {
	k.used = c.snapshots
	c.this = append(c.this, k)
	return sample{k.lset, v, k}
}

// emit returns a metricset.Emit that appends samples to *out.
func (c *seriesCache) emit(out *[]sample) metricset.Emit {
	return func(name string, l []metricset.Label, v float64) {
		*out = append(*out, c.sample(name, l, v))
	}
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

// gpuSamples turns one GPU's figures into samples.
func gpuSamples(out []sample, c *seriesCache, g *gpumonv1.Gpu, driver string) []sample {
	metricset.GPU(c.emit(&out), g, driver)
	free(c.emit(&out), g)
	return out
}

// machineSamples turns the machine-level figures into samples.
func machineSamples(out []sample, c *seriesCache, s *gpumonv1.SystemInfo) []sample {
	metricset.Machine(c.emit(&out), s)
	return out
}
