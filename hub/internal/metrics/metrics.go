// Package metrics serves the hub's /metrics: the fleet's current values,
// named after NVIDIA dcgm-exporter's metrics where one exists, and the hub's
// own health.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gpumon/gpumon/common/exposition"
	"github.com/gpumon/gpumon/common/metricset"
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
	// Extra holds more of the hub's own metrics (alerting); may be nil.
	Extra prometheus.Gatherer
}

// Registry is the hub's /metrics.
type Registry struct {
	all     prometheus.Gatherer
	handler http.Handler
}

// New returns the registry of what /metrics reports.
func New(src Sources) *Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(exposition.NewCollector(fleetSource(src)))
	reg.MustRegister(&hubCollector{src: src})
	var all prometheus.Gatherer = reg
	if src.Extra != nil {
		all = prometheus.Gatherers{reg, src.Extra}
	}
	return &Registry{all: all, handler: promhttp.HandlerFor(all, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})}
}

// ServeHTTP serves /metrics.
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) { r.handler.ServeHTTP(w, req) }

// Families lists the HELP and TYPE of every metric /metrics declares now
// and of every fleet series the history may hold (a machine offline now
// still has history), for /api/v1/metadata.
func (r *Registry) Families() []metricset.Family {
	return append(exposition.Families(r.all), metricset.Families()...)
}

// fleetSource emits every machine's current values: the online state of
// each, the figures of those online, and the GPUs held while idle.
func fleetSource(src Sources) func(metricset.Emit) {
	return func(emit metricset.Emit) {
		for _, m := range src.Fleet.List() {
			st := m.State()
			history.Online(emit, m.Key, m.Hostname, st.Online)
			if st.Online && st.Report != nil { // stale figures are not current values
				history.Current(emit, m.Key, m.Hostname, st.Report)
			}
		}
		for _, g := range src.Fleet.IdleGPUs(true) {
			history.Idle(emit, g)
		}
	}
}
