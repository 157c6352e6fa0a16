// Package metrics serves the hub's /metrics: the fleet's current values,
// named after NVIDIA dcgm-exporter's metrics where one exists, and the hub's
// own health.
package metrics

import (
	"net/http"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/gpumon/gpumon/hub/internal/fleet"
	"github.com/gpumon/gpumon/hub/internal/history"
	"github.com/gpumon/gpumon/hub/internal/service"
)

// Sources are what /metrics reports on.
type Sources struct {
	Fleet   *fleet.Fleet
	Stats   *service.Stats
	History *history.Store        // may be nil
	Remote  *history.RemoteWriter // may be nil
}

// Handler returns the /metrics handler.
func Handler(src Sources) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(&fleetCollector{src: src, descs: map[string]*prometheus.Desc{}})
	reg.MustRegister(&hubCollector{src: src})
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// fleetCollector exports every machine's current values.
type fleetCollector struct {
	src   Sources
	mu    sync.Mutex
	descs map[string]*prometheus.Desc
}

// Describe sends nothing: the metric set depends on the fleet (unchecked collector).
func (c *fleetCollector) Describe(chan<- *prometheus.Desc) {}

func (c *fleetCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.src.Fleet.List() {
		st := m.State()
		c.emit(ch, history.OnlineSample(m.Key, m.Hostname, st.Online))
		if !st.Online || st.Report == nil {
			continue // stale figures are not current values
		}
		for _, s := range history.Current(m.Key, m.Hostname, st.Report) {
			c.emit(ch, s)
		}
	}
	for _, g := range c.src.Fleet.IdleGPUs(true) {
		c.emit(ch, history.IdleSample(g))
	}
}

func (c *fleetCollector) emit(ch chan<- prometheus.Metric, s history.Sample) {
	name := s.Labels.Get(labels.MetricName)
	var names, values []string
	s.Labels.Range(func(l labels.Label) {
		if l.Name != labels.MetricName {
			names = append(names, l.Name)
			values = append(values, l.Value)
		}
	})
	desc := c.desc(name, names)
	kind := prometheus.GaugeValue
	if strings.HasSuffix(name, "_total") {
		kind = prometheus.CounterValue
	}
	if m, err := prometheus.NewConstMetric(desc, kind, s.Value, values...); err == nil {
		ch <- m
	}
}

func (c *fleetCollector) desc(name string, labelNames []string) *prometheus.Desc {
	key := name + "\x00" + strings.Join(labelNames, "\x00")
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.descs[key]
	if !ok {
		d = prometheus.NewDesc(name, help(name), labelNames, nil)
		c.descs[key] = d
	}
	return d
}

func help(name string) string {
	if h, ok := helps[name]; ok {
		return h
	}
	return "gpumon: " + strings.ReplaceAll(strings.TrimPrefix(name, "gpumon_"), "_", " ") + "."
}

var helps = map[string]string{
	history.GPUUtil:         "GPU utilization (in %).",
	history.GPUMemCopyUtil:  "Memory utilization (in %).",
	history.GPUFBUsed:       "Framebuffer memory used (in MiB).",
	history.GPUFBFree:       "Framebuffer memory free (in MiB).",
	history.GPUFBTotal:      "Framebuffer memory total (in MiB).",
	history.GPUTemp:         "GPU temperature (in C).",
	history.GPUPower:        "Power draw (in W).",
	history.GPUPowerLimit:   "Power management limit (in W).",
	history.GPUSMClock:      "SM clock frequency (in MHz).",
	history.GPUMemClock:     "Memory clock frequency (in MHz).",
	history.GPUFan:          "Fan speed (in %).",
	history.GPUPState:       "Performance state (0 = P0).",
	history.GPUECCCorrected: "Volatile single-bit (corrected) ECC errors.",
	history.GPUECCUncorrect: "Volatile double-bit (uncorrected) ECC errors.",
	history.GPUEncUtil:      "Encoder utilization (in %).",
	history.GPUDecUtil:      "Decoder utilization (in %).",
	history.GPUPCIeGen:      "PCIe current link generation.",
	history.GPUPCIeWidth:    "PCIe current link width (lanes).",
	history.UserGPUSMUtil:   "SM utilization of a user's processes on the GPU, summed (in %), where the driver reports it per process.",
	history.GPUIdleHeld:     "Seconds the GPU has held memory while doing no work (0 when busy or free).",
	history.MachineOnline:   "1 when the machine's agent reports, 0 when it is offline.",
}
