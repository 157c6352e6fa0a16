package service

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/audit"
	"github.com/gpumon/gpumon/hub/internal/caller"
	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// DefaultWatchMaxLag: a watcher whose oldest undelivered event has waited
// this long is disconnected (it reads more slowly than the fleet changes).
// Its queue holds one event per machine, so it never grows past the fleet.
const DefaultWatchMaxLag = 30 * time.Second

// Watch streams fleet events: the current state of every machine first, then
// every change, with heartbeats while nothing happens. A watcher that falls
// WatchMaxLag behind is ended with ResourceExhausted saying so.
func (s *Fleet) Watch(req *gpumonv1.WatchRequest, stream gpumonv1.FleetService_WatchServer) error {
	free, err := watchCriteria(req)
	if err != nil {
		return err
	}
	ctx := stream.Context()
	release, err := s.Watchers.admit(caller.Address(ctx))
	if err != nil {
		s.Stats.WatchRefused.Add(1)
		s.Audit.Call(ctx, slog.LevelWarn, "watch refused", audit.Entry{Result: status.Code(err).String(), Attrs: []any{"reason", status.Convert(err).Message()}})
		return err
	}
	defer release()
	q := s.Fleet.Events().Watch()
	defer q.Close()
	maxLag := cmp.Or(s.WatchMaxLag, DefaultWatchMaxLag)
	sent := make(chan error, 1)
	go func() { sent <- s.sendEvents(ctx, req, free, stream, q) }()
	check := time.NewTicker(time.Second)
	defer check.Stop()
	for {
		select {
		case err := <-sent:
			return err
		case <-ctx.Done():
			return nil
		case <-s.Stopping:
			return nil
		case now := <-check.C:
			if lag := q.Lag(now); lag > maxLag {
				s.Stats.WatchBehind.Add(1)
				s.Log.Warn("watcher too slow, disconnected", "remote", caller.Address(ctx), "behind", lag.Round(time.Second), "pending", q.Len())
				// Returning ends the stream, and with it a send blocked on
				// a client that does not read.
				return status.Errorf(codes.ResourceExhausted, "this watch fell %s behind the fleet (limit %s): the client reads too slowly; reconnect to start from the current state",
					lag.Round(time.Second), maxLag)
			}
		}
	}
}

// sendEvents is the stream's only sender: the current state, then the
// queue's events as they come, and a heartbeat every Heartbeat.
func (s *Fleet) sendEvents(ctx context.Context, req *gpumonv1.WatchRequest, free *gpumonv1.ListFreeGpusRequest, stream gpumonv1.FleetService_WatchServer, q *fleet.Queue) error {
	for _, m := range s.Fleet.List() {
		if req.GetMachine() != "" && m.Key != req.GetMachine() {
			continue
		}
		ev := &fleet.Event{Type: gpumonv1.WatchEventType_WATCH_EVENT_TYPE_INITIAL, Machine: m, State: m.State()}
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
		for ev, ok := q.Pop(); ok; ev, ok = q.Pop() {
			if req.GetMachine() != "" && ev.Machine.Key != req.GetMachine() {
				continue
			}
			if err := stream.Send(s.watchResponse(req, free, ev)); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-q.Ready():
		case <-ticker.C:
			hb := &gpumonv1.WatchResponse{Type: gpumonv1.WatchEventType_WATCH_EVENT_TYPE_HEARTBEAT, Time: now()}
			if err := stream.Send(hb); err != nil {
				return err
			}
		}
	}
}

// watchResponse is ev as req's watcher sees it. Watchers of the same view
// (reports or not, the same free-GPU criteria) share one answer per
// published event, which must then not be changed: the REST route encodes
// it once for all of them.
func (s *Fleet) watchResponse(req *gpumonv1.WatchRequest, free *gpumonv1.ListFreeGpusRequest, ev *fleet.Event) *gpumonv1.WatchResponse {
	if ev.Views == nil {
		return s.buildWatchResponse(req, free, ev)
	}
	key := viewKey(req, free)
	if v, ok := ev.Views.Load(key); ok {
		return v.(*gpumonv1.WatchResponse)
	}
	v, _ := ev.Views.LoadOrStore(key, s.buildWatchResponse(req, free, ev))
	return v.(*gpumonv1.WatchResponse)
}

// viewKey names what a watch request sees of an event (not which machines:
// that filter drops events, it does not change them).
func viewKey(req *gpumonv1.WatchRequest, free *gpumonv1.ListFreeGpusRequest) string {
	key := "summary"
	if req.GetIncludeReport() {
		key = "report"
	}
	if free != nil {
		b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(free)
		key += ";free=" + string(b)
	}
	return key
}

func (s *Fleet) buildWatchResponse(req *gpumonv1.WatchRequest, free *gpumonv1.ListFreeGpusRequest, ev *fleet.Event) *gpumonv1.WatchResponse {
	// The event's own state, not the machine's newest: the summary and the
	// report of one event describe the same sample.
	resp := &gpumonv1.WatchResponse{Type: ev.Type, Machine: ev.Machine.SummaryOf(ev.State), Time: now()}
	if req.GetIncludeReport() && ev.Type != gpumonv1.WatchEventType_WATCH_EVENT_TYPE_FORGOTTEN {
		resp.Report = fleet.RenderedOf(ev.State)
	}
	resp.FreeGpus = freeOf(free, *ev)
	return resp
}
