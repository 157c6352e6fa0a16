package service

import (
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// TestWatchersOfOneViewShareAnAnswer: one published event is built once
// per view and shared by the watchers of that view; other views get their
// own; an event that was not published (initial) is built per watcher.
func TestWatchersOfOneViewShareAnAnswer(t *testing.T) {
	f := fleet.New(nil)
	m := f.IngestLegacy(&gpumonv1.Report{Hostname: "gpu-a", SystemInfo: &gpumonv1.SystemInfo{}})
	s := &Fleet{Fleet: f}
	ev := &fleet.Event{Type: gpumonv1.WatchEventType_WATCH_EVENT_TYPE_SAMPLE, Machine: m, State: m.State(), Views: new(sync.Map)}
	summary, reports := &gpumonv1.WatchRequest{}, &gpumonv1.WatchRequest{IncludeReport: true}
	free := &gpumonv1.ListFreeGpusRequest{MaxUtilization: proto.Uint32(10)}
	a, b := s.watchResponse(summary, nil, ev), s.watchResponse(&gpumonv1.WatchRequest{Machine: "gpu-a"}, nil, ev)
	if a != b {
		t.Error("two watchers of the summaries got two answers")
	}
	r := s.watchResponse(reports, nil, ev)
	if r == a || r.GetReport() == nil || a.GetReport() != nil {
		t.Error("a watcher of reports shares the summaries' answer")
	}
	if s.watchResponse(summary, free, ev) == a {
		t.Error("a watcher with free-GPU criteria shares the plain answer")
	}
	initial := &fleet.Event{Type: gpumonv1.WatchEventType_WATCH_EVENT_TYPE_INITIAL, Machine: m, State: m.State()}
	if s.watchResponse(summary, nil, initial) == s.watchResponse(summary, nil, initial) {
		t.Error("initial events are shared")
	}
}
