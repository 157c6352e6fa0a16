package sim

import (
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"
)

// gpmSample is a simulated GPU performance monitoring sample: which GPU it
// was taken on, and when.
type gpmSample struct {
	g     int
	t     time.Time
	taken bool
}

func (s *gpmSample) Free() nvml.Return { return nvml.SUCCESS }

func (s *gpmSample) Get(d nvml.Device) nvml.Return { return d.GpmSampleGet(s) }

func (s *gpmSample) MigGet(nvml.Device, int) nvml.Return { return nvml.ERROR_NOT_SUPPORTED }

// wireGPM gives Hopper and Blackwell cards GPU performance monitoring.
func wireGPM(d *server.Device, m *model, g int, now func() time.Time) {
	d.GpmQueryDeviceSupportFunc = func() (nvml.GpmSupport, nvml.Return) {
		s := nvml.GpmSupport{Version: nvml.GPM_SUPPORT_VERSION}
		if m.spec.gpm {
			s.IsSupportedDevice = 1
		}
		return s, nvml.SUCCESS
	}
	d.GpmSampleGetFunc = func(s nvml.GpmSample) nvml.Return {
		gs, ok := s.(*gpmSample)
		if !ok || !m.spec.gpm {
			return nvml.ERROR_NOT_SUPPORTED
		}
		gs.g, gs.t, gs.taken = g, now(), true
		return nvml.SUCCESS
	}
}

// GpmSampleAlloc returns a sample for the simulated cards.
func (m *Machine) GpmSampleAlloc() (nvml.GpmSample, nvml.Return) { return &gpmSample{}, nvml.SUCCESS }

// GpmMetricsGet computes the activity between two samples of one GPU. Like
// the Machine's other methods it records nothing.
func (m *Machine) GpmMetricsGet(q *nvml.GpmMetricsGetType) nvml.Return {
	s1, ok1 := q.Sample1.(*gpmSample)
	s2, ok2 := q.Sample2.(*gpmSample)
	if !ok1 || !ok2 || !s1.taken || !s2.taken || s1.g != s2.g || !s2.t.After(s1.t) || q.NumMetrics > uint32(len(q.Metrics)) {
		return nvml.ERROR_INVALID_ARGUMENT
	}
	for i := range q.NumMetrics {
		mt := &q.Metrics[i]
		v, ok := m.model.activity(nvml.GpmMetricId(mt.MetricId), s1.g, s1.t, s2.t)
		mt.Value, mt.NvmlReturn = v, uint32(nvml.SUCCESS)
		if !ok {
			mt.NvmlReturn = uint32(nvml.ERROR_NOT_SUPPORTED)
		}
	}
	return nvml.SUCCESS
}

// activity is a GPM metric in percent, averaged over (from, to]: what the
// job keeps busy follows its utilisation; training uses the tensor cores
// more than serving does.
func (m *model) activity(id nvml.GpmMetricId, g int, from, to time.Time) (float64, bool) {
	const points = 4
	var sum float64
	for i := 1; i <= points; i++ {
		t := from.Add(to.Sub(from) * time.Duration(i) / points)
		v, ok := m.activityAt(id, g, t)
		if !ok {
			return 0, false
		}
		sum += v
	}
	return sum / points, true
}

func (m *model) activityAt(id nvml.GpmMetricId, g int, t time.Time) (float64, bool) {
	j := m.job(g, t)
	u := m.utilOf(g, j, t)
	sm, tensor := 0.65, 0.25
	if steady(j.Kind) {
		sm, tensor = 0.9, 0.55
	}
	wobble := 1 + 0.05*m.noise(g, saltGPM, seconds(t)/2)
	switch id {
	case nvml.GPM_METRIC_GRAPHICS_UTIL:
		return clamp(0.97*u*wobble, 0, 100), true
	case nvml.GPM_METRIC_SM_UTIL:
		return clamp(sm*u*wobble, 0, 100), true
	case nvml.GPM_METRIC_SM_OCCUPANCY:
		return clamp(0.45*sm*u*wobble, 0, 100), true
	case nvml.GPM_METRIC_ANY_TENSOR_UTIL:
		return clamp(tensor*u*wobble, 0, 100), true
	case nvml.GPM_METRIC_DRAM_BW_UTIL:
		return m.memUtil(g, t), true
	}
	return 0, false
}
