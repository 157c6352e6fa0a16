package history

import (
	"github.com/gpumon/gpumon/common/metricset"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// The functions below emit current values, for /metrics, under the same
// names and labels as the stored history.

// Current emits a report's GPU, machine, per-user and per-container figures.
func Current(emit metricset.Emit, key, hostname string, r *gpumonv1.Report) {
	emit = withMachine(emit, key, hostname)
	metricset.Report(emit, r)
	for _, g := range r.GetGpuData() {
		free(emit, g)
	}
}

// Idle emits the idle-held seconds series of one GPU.
func Idle(emit metricset.Emit, g *gpumonv1.IdleGpu) {
	withMachine(emit, g.GetMachine(), g.GetHostname())(GPUIdleHeld,
		metricset.GPUIdentity(g.GetIndex(), g.GetUuid(), g.GetName()), g.GetIdleSeconds())
}

// Online emits a machine's online series, and gpumon_machine_up (now is
// the hub's view).
func Online(emit metricset.Emit, key, hostname string, online bool) {
	v := 0.0
	if online {
		v = 1
	}
	emit = withMachine(emit, key, hostname)
	emit(MachineOnline, nil, v)
	emit(MachineUp, nil, v)
}

func withMachine(emit metricset.Emit, key, hostname string) metricset.Emit {
	base := machineLabels(key, hostname)
	l := make([]metricset.Label, len(base))
	for i, x := range base {
		l[i] = metricset.Label(x)
	}
	return metricset.WithBase(emit, l)
}
