package server

import (
	"cmp"
	"context"
	"os"

	"github.com/gpumon/gpumon/hub/internal/cluster"
	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// joinCluster prepares the hub's cluster membership (--cluster-nats); it
// connects in Run.
func (h *Hub) joinCluster() {
	if len(h.cfg.ClusterNATS) == 0 {
		return
	}
	name := h.cfg.ClusterHub
	if name == "" {
		host, _ := os.Hostname()
		name = cluster.SafeName(host)
	}
	h.cluster = cluster.New(cluster.Config{
		URLs: h.cfg.ClusterNATS, Name: cmp.Or(h.cfg.ClusterName, cluster.DefaultName), Hub: name,
		Keepalive: h.cfg.ClusterKeepalive, GRPCAddr: h.GRPCAddr(), HTTPAddr: h.HTTPAddr(), Log: h.cfg.Log,
	}, h.fleet)
	// /metrics's extra registry (alerting's) carries the cluster's figures.
	h.alerts.registry.MustRegister(h.cluster.Collector())
}

func (h *Hub) runCluster(ctx context.Context) {
	if err := h.cluster.Run(ctx); err != nil {
		h.cfg.Log.Error("cluster membership ended", "err", err)
	}
}

// forgotten drops a forgotten machine's history accounting and, in a
// cluster, its record: every hub forgets it.
func (h *Hub) forgotten(m *fleet.Machine) {
	h.history.Forget(m)
	if h.cluster != nil {
		h.cluster.Forget(m)
	}
}

// clusterErr is why the hub does not share the fleet with its cluster now
// (nil on a single hub).
func (h *Hub) clusterErr() error {
	if h.cluster == nil {
		return nil
	}
	return h.cluster.Err()
}
