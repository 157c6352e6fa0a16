package cluster

import "github.com/prometheus/client_golang/prometheus"

var (
	readyDesc     = prometheus.NewDesc("gpumon_hub_cluster_ready", "1 while the hub shares the fleet with its cluster (NATS reachable, bucket followed), else 0.", nil, nil)
	recordsDesc   = prometheus.NewDesc("gpumon_hub_cluster_records_total", "Machine records written to or read from the cluster's bucket.", []string{"direction"}, nil)
	bytesDesc     = prometheus.NewDesc("gpumon_hub_cluster_record_bytes_total", "Bytes of machine records (compressed) written to or read from the cluster's bucket.", []string{"direction"}, nil)
	forwardedDesc = prometheus.NewDesc("gpumon_hub_cluster_commands_forwarded_total", "Commands sent to the hub holding a machine's stream.", nil, nil)
)

// Collector exports the hub's cluster figures on /metrics.
func (c *Cluster) Collector() prometheus.Collector { return collector{c} }

type collector struct{ c *Cluster }

func (x collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{readyDesc, recordsDesc, bytesDesc, forwardedDesc} {
		ch <- d
	}
}

func (x collector) Collect(ch chan<- prometheus.Metric) {
	c := x.c
	ready := 0.0
	if c.ready.Load() {
		ready = 1
	}
	ch <- prometheus.MustNewConstMetric(readyDesc, prometheus.GaugeValue, ready)
	for dir, v := range map[string][2]uint64{"out": {c.Records.Load(), c.BytesOut.Load()}, "in": {c.RecordsIn.Load(), c.BytesIn.Load()}} {
		ch <- prometheus.MustNewConstMetric(recordsDesc, prometheus.CounterValue, float64(v[0]), dir)
		ch <- prometheus.MustNewConstMetric(bytesDesc, prometheus.CounterValue, float64(v[1]), dir)
	}
	ch <- prometheus.MustNewConstMetric(forwardedDesc, prometheus.CounterValue, float64(c.Forwarded.Load()))
}
