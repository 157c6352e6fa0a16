package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

var (
	streamsDesc   = prometheus.NewDesc("gpumon_hub_agent_streams", "Agent streams connected now.", nil, nil)
	snapshotsDesc = prometheus.NewDesc("gpumon_hub_snapshots_total", "Agent snapshots ingested.", nil, nil)
	dupDesc       = prometheus.NewDesc("gpumon_hub_duplicate_snapshots_total", "Agent snapshots dropped as already seen (replays).", nil, nil)
	rejectDesc    = prometheus.NewDesc("gpumon_hub_rejected_snapshots_total", "Agent streams closed for an invalid snapshot.", nil, nil)
	cutDesc       = prometheus.NewDesc("gpumon_hub_cut_snapshots_total", "Agent snapshots kept with their process list cut to --max-report-processes or --max-report-bytes (those using a GPU and the busiest others kept).", nil, nil)
	legacyDesc    = prometheus.NewDesc("gpumon_hub_legacy_reports_total", "Reports posted to POST /api/report-gpu-stats.", nil, nil)
	machinesDesc  = prometheus.NewDesc("gpumon_hub_machines", "Known machines by state.", []string{"state"}, nil)
	watchersDesc  = prometheus.NewDesc("gpumon_hub_watch_subscribers", "Open watch streams.", nil, nil)
	watchDropDesc = prometheus.NewDesc("gpumon_hub_watch_dropped_events_total", "Watch events replaced by a newer event of the same machine before a slow watcher read them (it gets the newest state).", nil, nil)
	historyDesc   = prometheus.NewDesc("gpumon_hub_history_samples_total", "Samples given to the history store, by result.", []string{"result"}, nil)
	remoteDesc    = prometheus.NewDesc("gpumon_hub_remote_write_samples_total", "Samples for remote write, by result.", []string{"result"}, nil)
	remoteQDesc   = prometheus.NewDesc("gpumon_hub_remote_write_queue", "Samples waiting to be remote-written.", nil, nil)
	shedDesc      = prometheus.NewDesc("gpumon_hub_shed_total", "Load shed: agent streams closed over the snapshot rate, connections closed over the limit, gRPC connections closed over the limit per remote address, watchers disconnected for falling behind, watch streams refused over the limits.", []string{"what"}, nil)
)

// hubCollector exports the hub's own health.
type hubCollector struct{ src Sources }

func (c *hubCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{streamsDesc, snapshotsDesc, dupDesc, rejectDesc, cutDesc, legacyDesc, machinesDesc,
		watchersDesc, watchDropDesc, historyDesc, remoteDesc, remoteQDesc, shedDesc} {
		ch <- d
	}
}

func (c *hubCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.src.Stats
	gauge := func(d *prometheus.Desc, v float64, lv ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, lv...)
	}
	counter := func(d *prometheus.Desc, v uint64, lv ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), lv...)
	}
	gauge(streamsDesc, float64(st.Streams.Load()))
	counter(snapshotsDesc, st.Snapshots.Load())
	counter(dupDesc, st.Duplicates.Load())
	counter(rejectDesc, st.Rejected.Load())
	counter(cutDesc, st.Cut.Load())
	counter(legacyDesc, st.LegacyPost.Load())
	counter(shedDesc, st.Shed.Load(), "streams")
	counter(shedDesc, st.ShedConns.Load(), "connections")
	counter(shedDesc, st.ShedAddrConns.Load(), "connections_per_address")
	counter(shedDesc, st.WatchBehind.Load(), "watchers_behind")
	counter(shedDesc, st.WatchRefused.Load(), "watchers_over_limit")
	online, offline := 0, 0
	for _, m := range c.src.Fleet.List() {
		if m.State().Online {
			online++
		} else {
			offline++
		}
	}
	gauge(machinesDesc, float64(online), "online")
	gauge(machinesDesc, float64(offline), "offline")
	ev := c.src.Fleet.Events()
	gauge(watchersDesc, float64(ev.Subscribers()))
	counter(watchDropDesc, ev.Coalesced())
	if h := c.src.History; h != nil {
		counter(historyDesc, h.Appended(), "stored")
		counter(historyDesc, h.Failed(), "refused")
	}
	if r := c.src.Remote; r != nil {
		counter(remoteDesc, r.Sent.Load(), "sent")
		counter(remoteDesc, r.Dropped.Load(), "dropped")
		counter(remoteDesc, r.Refused.Load(), "refused")
		gauge(remoteQDesc, float64(r.Pending()))
	}
}
