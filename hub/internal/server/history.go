package server

import (
	"cmp"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"time"

	"github.com/prometheus/common/model"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/gpustate"
	"github.com/gpumon/gpumon/hub/internal/history"
)

// openHistory opens the embedded store and, when configured, remote write
// and the remote query API.
func (h *Hub) openHistory() error {
	opts := history.Options{Retention: h.cfg.Retention, Query: h.cfg.Query, Log: h.cfg.Log}
	if h.cfg.RemoteWriteURL != "" {
		h.remote = history.NewRemoteWriter(h.cfg.RemoteWriteURL, h.cfg.Log)
		opts.Forward = h.remote.Forward
	}
	store, err := history.Open(filepath.Join(h.cfg.DataDir, "tsdb"), opts)
	if err != nil {
		return err
	}
	h.history = store
	idleAfter := cmp.Or(h.cfg.IdleAfter, gpustate.DefaultIdleAfter)
	h.fleet.SetIdleAfter(idleAfter)
	svc := &history.Service{Ranger: store, Idle: func() []*gpumonv1.IdleGpu { return h.fleet.IdleGPUs(false) }, IdleAfter: idleAfter}
	if h.cfg.HistoryURL != "" {
		u, err := url.Parse(h.cfg.HistoryURL)
		if err != nil {
			return fmt.Errorf("--history-url: %w", err)
		}
		svc.Ranger = &history.RemoteRanger{Base: u}
	}
	h.querier = svc
	return nil
}

// retention is how long the embedded history keeps samples.
func (h *Hub) retention() time.Duration {
	if h.cfg.Retention > 0 {
		return h.cfg.Retention
	}
	return history.DefaultRetention
}

// promFlags are the hub's query and history settings under Prometheus's
// flag names, for /api/v1/status/flags.
func (h *Hub) promFlags() map[string]string {
	return map[string]string{
		"query.lookback-delta":        model.Duration(history.LookbackDelta).String(),
		"query.max-concurrency":       strconv.Itoa(h.history.QueryLimits().MaxConcurrency),
		"query.max-samples":           strconv.Itoa(h.history.QueryLimits().MaxSamples),
		"query.timeout":               model.Duration(h.history.QueryLimits().Timeout).String(),
		"storage.tsdb.retention.time": model.Duration(h.retention()).String(),
	}
}
