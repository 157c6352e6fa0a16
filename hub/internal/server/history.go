package server

import (
	"cmp"
	"fmt"
	"net/url"
	"path/filepath"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/gpustate"
	"github.com/gpumon/gpumon/hub/internal/history"
)

// openHistory opens the embedded store and, when configured, remote write
// and the remote query API.
func (h *Hub) openHistory() error {
	opts := history.Options{Retention: h.cfg.Retention, Log: h.cfg.Log}
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
