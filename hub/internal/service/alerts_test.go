package service

import (
	"context"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// TestWatchFreeGPUsAreListFreeGpus: a watch that asks for free GPUs gets,
// with each event, exactly the GPUs of that machine ListFreeGpus lists for
// the same criteria; none once the machine is offline.
func TestWatchFreeGPUsAreListFreeGpus(t *testing.T) {
	s, f, m := newFleetService()
	sub := f.Events().Subscribe(16)
	defer sub.Close()
	f.Ingest(m, 1, busyReport(time.Now(), 3))
	e := <-sub.C
	ev := &e
	for _, c := range []*gpumonv1.ListFreeGpusRequest{{}, {MinFreeMemory: 80000}, {Shared: true, MaxUtilization: proto.Uint32(90)}, {MinFreeMemory: 90000}} {
		crit, err := watchCriteria(&gpumonv1.WatchRequest{Free: c})
		if err != nil {
			t.Fatal(err)
		}
		got := s.watchResponse(&gpumonv1.WatchRequest{Free: c}, crit, ev).GetFreeGpus()
		want, _ := s.ListFreeGpus(context.Background(), c)
		if !slices.EqualFunc(got, want.GetGpus(), func(a, b *gpumonv1.FreeGpu) bool { return proto.Equal(a, b) }) {
			t.Errorf("criteria %v: watch lists %v, ListFreeGpus %v", c, got, want.GetGpus())
		}
	}
	if got := s.watchResponse(&gpumonv1.WatchRequest{}, nil, ev).GetFreeGpus(); got != nil {
		t.Errorf("free GPUs without asking: %v", got)
	}
	ev.State.Online = false
	crit, _ := watchCriteria(&gpumonv1.WatchRequest{Free: &gpumonv1.ListFreeGpusRequest{IncludeOffline: true}})
	if got := s.watchResponse(&gpumonv1.WatchRequest{}, crit, ev).GetFreeGpus(); len(got) != 0 {
		t.Errorf("an offline machine's GPUs listed as free: %v", got)
	}
}

func TestWatchRefusesBadFreeCriteria(t *testing.T) {
	_, err := watchCriteria(&gpumonv1.WatchRequest{Free: &gpumonv1.ListFreeGpusRequest{MaxUtilization: proto.Uint32(101)}})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("err = %v, want InvalidArgument", err)
	}
}

func TestListAlertsWithoutRules(t *testing.T) {
	s, _, _ := newFleetService()
	resp, err := s.ListAlerts(context.Background(), &gpumonv1.ListAlertsRequest{})
	if err != nil || resp.GetAlerts() == nil || len(resp.GetAlerts()) != 0 || resp.GetRules() != 0 {
		t.Errorf("ListAlerts = %v, %v; want an empty list and no rules", resp, err)
	}
}
