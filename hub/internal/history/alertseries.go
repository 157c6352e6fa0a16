package history

import (
	"github.com/gpumon/gpumon/common/metricset"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/gpustate"
)

// free emits gpumon_gpu_free, which the default rule GpuFree reads: 1 when
// the GPU is free by the hub's default definition (gpustate.DefaultCriteria,
// as ListFreeGpus, gpumon free and the page count), else 0. Only a machine
// that reports has samples, so "on an online machine" holds; a GPU that
// could not be read has none, as it has no other series.
func free(emit metricset.Emit, g *gpumonv1.Gpu) {
	if g.GetError() != "" {
		return
	}
	v := 0.0
	if gpustate.Free(gpustate.DefaultCriteria(), g) {
		v = 1
	}
	emit(GPUFree, metricset.GPUIdentity(g.GetId(), g.GetUuid(), g.GetName()), v)
}
