package service

import (
	"time"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// WatchBuffer is how many events a watcher may fall behind before it loses
// some (each event carries full state, so later ones make up for it).
const WatchBuffer = 1024

// Watch streams fleet events: the current state of every machine first, then
// every change, with heartbeats while nothing happens.
func (s *Fleet) Watch(req *gpumonv1.WatchRequest, stream gpumonv1.FleetService_WatchServer) error {
	free, err := watchCriteria(req)
	if err != nil {
		return err
	}
	sub := s.Fleet.Events().Subscribe(WatchBuffer)
	defer sub.Close()
	for _, m := range s.Fleet.List() {
		if req.GetMachine() != "" && m.Key != req.GetMachine() {
			continue
		}
		ev := fleet.Event{Type: gpumonv1.WatchEventType_WATCH_EVENT_TYPE_INITIAL, Machine: m, State: m.State()}
		if err := stream.Send(s.watchResponse(req, free, ev)); err != nil {
			return err
		}
	}
	beat := s.Heartbeat
	if beat <= 0 {
		beat = 15 * time.Second
	}
	ticker := time.NewTicker(beat)
	defer ticker.Stop()
	for {
		select {
		case <-stream.Context().Done():
			return nil
		case <-s.Stopping:
			return nil
		case <-ticker.C:
			hb := &gpumonv1.WatchResponse{Type: gpumonv1.WatchEventType_WATCH_EVENT_TYPE_HEARTBEAT, Time: now()}
			if err := stream.Send(hb); err != nil {
				return err
			}
		case ev := <-sub.C:
			if req.GetMachine() != "" && ev.Machine.Key != req.GetMachine() {
				continue
			}
			if err := stream.Send(s.watchResponse(req, free, ev)); err != nil {
				return err
			}
		}
	}
}

func (s *Fleet) watchResponse(req *gpumonv1.WatchRequest, free *gpumonv1.ListFreeGpusRequest, ev fleet.Event) *gpumonv1.WatchResponse {
	// The event's own state, not the machine's newest: the summary and the
	// report of one event describe the same sample.
	resp := &gpumonv1.WatchResponse{Type: ev.Type, Machine: ev.Machine.SummaryOf(ev.State), Time: now()}
	if req.GetIncludeReport() && ev.Type != gpumonv1.WatchEventType_WATCH_EVENT_TYPE_FORGOTTEN {
		resp.Report = fleet.RenderedOf(ev.State)
	}
	resp.FreeGpus = freeOf(free, ev)
	return resp
}
