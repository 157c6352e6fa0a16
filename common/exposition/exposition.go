// Package exposition exports gpumon's series to Prometheus client_golang
// registries, with the HELP and TYPE package metricset declares, for the
// hub's /metrics and the agent's --metrics-addr.
package exposition

import (
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/gpumon/gpumon/common/metricset"
)

// Collector is a prometheus.Collector over a source that emits the current
// series with all their labels. Series whose label values cannot be
// exported are skipped.
type Collector struct {
	source func(metricset.Emit)
	mu     sync.Mutex
	descs  map[string]*prometheus.Desc
}

// NewCollector returns a collector that calls source at every scrape.
func NewCollector(source func(emit metricset.Emit)) *Collector {
	return &Collector{source: source, descs: map[string]*prometheus.Desc{}}
}

// Describe sends nothing: the metric set depends on what is reported
// (an unchecked collector).
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.source(func(name string, l []metricset.Label, v float64) {
		names, values := make([]string, 0, len(l)), make([]string, 0, len(l))
		for _, x := range l {
			if x.Value != "" {
				names, values = append(names, x.Name), append(values, x.Value)
			}
		}
		if m, err := prometheus.NewConstMetric(c.desc(name, names), valueType(name), v, values...); err == nil {
			ch <- m
		}
	})
}

func (c *Collector) desc(name string, labelNames []string) *prometheus.Desc {
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

// help is the HELP text of a metric name.
func help(name string) string {
	if f, ok := metricset.Lookup(name); ok {
		return f.Help
	}
	return "gpumon: " + strings.ReplaceAll(strings.TrimPrefix(name, "gpumon_"), "_", " ") + "."
}

// Families lists the HELP and TYPE of every metric family g gathers now.
// Families that fail to gather are left out.
func Families(g prometheus.Gatherer) []metricset.Family {
	mfs, _ := g.Gather()
	out := make([]metricset.Family, 0, len(mfs))
	for _, mf := range mfs {
		typ := strings.ToLower(mf.GetType().String())
		if mf.GetType() == dto.MetricType_UNTYPED {
			typ = "unknown" // Prometheus's name for it in metadata
		}
		out = append(out, metricset.Family{Name: mf.GetName(), Type: metricset.Type(typ), Help: mf.GetHelp()})
	}
	return out
}

func valueType(name string) prometheus.ValueType {
	f, ok := metricset.Lookup(name)
	if ok && f.Type == metricset.Counter || !ok && strings.HasSuffix(name, "_total") {
		return prometheus.CounterValue
	}
	return prometheus.GaugeValue
}
