package history

import (
	"github.com/prometheus/prometheus/model/labels"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// Sample is one current value, for /metrics.
type Sample struct {
	Labels labels.Labels
	Value  float64
}

// Current returns a report's current values under the same names and labels
// as the stored history: GPU, machine, per-user and per-container figures.
func Current(key, hostname string, r *gpumonv1.Report) []Sample {
	base := machineLabels(key, hostname)
	var out []sample
	for _, g := range r.GetGpuData() {
		out = gpuSamples(out, base, g)
	}
	out = machineSamples(out, base, r.GetSystemInfo())
	use := usageOf(r)
	for u, n := range use.gpus {
		ul := labels.Label{Name: "user", Value: u}
		out = append(out, sample{series(UserGPUs, base, ul), float64(n)}, sample{series(UserGPUMemory, base, ul), use.mem[u]})
	}
	for c, v := range containersOf(r) {
		out = append(out, sample{series(ContainerGPUMem, base, labels.Label{Name: "container", Value: c}), v})
	}
	res := make([]Sample, len(out))
	for i, s := range out {
		res[i] = Sample{Labels: s.lset, Value: s.value}
	}
	return res
}

// IdleSample is the idle-held seconds series of one GPU.
func IdleSample(g *gpumonv1.IdleGpu) Sample {
	l := series(GPUIdleHeld, machineLabels(g.GetMachine(), g.GetHostname()),
		gpuLabels(&gpumonv1.Gpu{Id: g.GetIndex(), Uuid: g.GetUuid(), Name: g.GetName()})...)
	return Sample{Labels: l, Value: g.GetIdleSeconds()}
}

// OnlineSample is a machine's online series.
func OnlineSample(key, hostname string, online bool) Sample {
	v := 0.0
	if online {
		v = 1
	}
	return Sample{Labels: series(MachineOnline, machineLabels(key, hostname)), Value: v}
}
