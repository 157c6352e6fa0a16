package service

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
	"github.com/gpumon/gpumon/hub/internal/gpustate"
)

// AlertLister answers ListAlerts (the hub's rule engine).
type AlertLister interface {
	ListAlerts(req *gpumonv1.ListAlertsRequest) *gpumonv1.ListAlertsResponse
}

// ListAlerts lists the alerts that fire now (pending ones too when asked).
// A hub without rules answers an empty list with rules 0.
func (s *Fleet) ListAlerts(_ context.Context, req *gpumonv1.ListAlertsRequest) (*gpumonv1.ListAlertsResponse, error) {
	if s.Alerts == nil {
		return &gpumonv1.ListAlertsResponse{Alerts: []*gpumonv1.Alert{}}, nil
	}
	return s.Alerts.ListAlerts(req), nil
}

// watchCriteria checks a watch's free-GPU criteria before the first event.
func watchCriteria(req *gpumonv1.WatchRequest) (*gpumonv1.ListFreeGpusRequest, error) {
	if req.GetFree() == nil {
		return nil, nil
	}
	c, err := gpustate.Criteria(req.GetFree())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "free: %v", err)
	}
	return c, nil
}

// freeOf lists the GPUs of one event's machine that are free by c, best
// first: the same test as ListFreeGpus, for that machine alone.
func freeOf(c *gpumonv1.ListFreeGpusRequest, ev fleet.Event) []*gpumonv1.FreeGpu {
	st := ev.State
	if c == nil || st == nil || !st.Online || ev.Type == gpumonv1.WatchEventType_WATCH_EVENT_TYPE_FORGOTTEN {
		return nil
	}
	var out []*gpumonv1.FreeGpu
	for _, g := range st.Report.GetGpuData() {
		if gpustate.Free(c, g) {
			out = append(out, gpustate.FreeGPU(ev.Machine.Key, ev.Machine.Hostname, true, g))
		}
	}
	gpustate.SortFree(out)
	return out
}
