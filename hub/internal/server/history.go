package server

import (
	"fmt"
	"net/url"
	"path/filepath"
	"time"

	"github.com/gpumon/gpumon/hub/internal/history"
)

// DefaultIdleAfter: a GPU held while idle this long counts as idle-held.
const DefaultIdleAfter = 30 * time.Minute

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
	svc := &history.Service{Ranger: store, Idle: store.IdleHeld, IdleAfter: h.cfg.IdleAfter}
	if svc.IdleAfter <= 0 {
		svc.IdleAfter = DefaultIdleAfter
	}
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
