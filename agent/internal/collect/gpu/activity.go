package gpu

import (
	"github.com/NVIDIA/go-nvml/pkg/nvml"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// gpmSamples are the two GPU performance monitoring samples of one GPU:
// the previous collection's and the one being taken.
type gpmSamples struct {
	prev, cur nvml.GpmSample
	// valid says prev holds a sample to compare with.
	valid bool
	// query is reused: NVML's request holds room for every metric (19 KB).
	query nvml.GpmMetricsGetType
}

// free releases both samples.
func (s *gpmSamples) free() {
	s.prev.Free()
	s.cur.Free()
}

// activityMetrics are the GPM metrics read, in the order of the fields they
// fill.
var activityMetrics = [...]struct {
	id  nvml.GpmMetricId
	set func(a *gpumonv1.GpuActivity, ratio float64)
}{
	{nvml.GPM_METRIC_GRAPHICS_UTIL, func(a *gpumonv1.GpuActivity, v float64) { a.Graphics = ptr(v) }},
	{nvml.GPM_METRIC_SM_UTIL, func(a *gpumonv1.GpuActivity, v float64) { a.Sm = ptr(v) }},
	{nvml.GPM_METRIC_SM_OCCUPANCY, func(a *gpumonv1.GpuActivity, v float64) { a.SmOccupancy = ptr(v) }},
	{nvml.GPM_METRIC_ANY_TENSOR_UTIL, func(a *gpumonv1.GpuActivity, v float64) { a.Tensor = ptr(v) }},
	{nvml.GPM_METRIC_DRAM_BW_UTIL, func(a *gpumonv1.GpuActivity, v float64) { a.Dram = ptr(v) }},
}

// readActivity reads engine activity between the previous collection and
// this one from NVML's GPU performance monitoring (Hopper and newer). The
// first collection only takes a sample.
func (r *reader) readActivity() {
	if !r.want(mActivity) || !r.gpmReady() {
		return
	}
	s := r.st.gpm
	if ret := r.dev.GpmSampleGet(s.cur); !r.ok(mActivity, ret) {
		s.valid = false
		return
	}
	if s.valid {
		r.g.Activity = r.compare(&s.query, s.prev, s.cur)
	}
	s.prev, s.cur, s.valid = s.cur, s.prev, true
}

// gpmReady checks once that the GPU supports GPM and allocates its samples.
func (r *reader) gpmReady() bool {
	if r.st.gpm != nil {
		return true
	}
	sup, ret := r.dev.GpmQueryDeviceSupport()
	if ret == nvml.SUCCESS && sup.IsSupportedDevice == 0 {
		ret = nvml.ERROR_NOT_SUPPORTED
	}
	if !r.ok(mActivity, ret) {
		return false
	}
	a, ret := r.c.lib.GpmSampleAlloc()
	if !r.ok(mActivity, ret) {
		return false
	}
	b, ret := r.c.lib.GpmSampleAlloc()
	if !r.ok(mActivity, ret) {
		a.Free()
		return false
	}
	r.st.gpm = &gpmSamples{prev: a, cur: b}
	return true
}

// compare computes the activity ratios between two samples with q; nil
// when NVML gave none.
func (r *reader) compare(q *nvml.GpmMetricsGetType, s1, s2 nvml.GpmSample) *gpumonv1.GpuActivity {
	q.NumMetrics, q.Sample1, q.Sample2 = uint32(len(activityMetrics)), s1, s2
	for i, m := range activityMetrics {
		q.Metrics[i] = nvml.GpmMetric{MetricId: uint32(m.id)}
	}
	if ret := r.c.lib.GpmMetricsGet(q); !r.ok(mActivity, ret) {
		return nil
	}
	var a *gpumonv1.GpuActivity
	for i, m := range activityMetrics {
		got := q.Metrics[i]
		if nvml.Return(got.NvmlReturn) != nvml.SUCCESS || got.Value < 0 {
			continue
		}
		if a == nil {
			a = &gpumonv1.GpuActivity{}
		}
		m.set(a, min(got.Value/100, 1)) // NVML gives percent
	}
	return a
}
