package machinelist

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gpumon/gpumon/gateway"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
	"github.com/gpumon/gpumon/hub/internal/service"
)

func report(host string, gpus int, util uint32) *gpumonv1.Report {
	r := &gpumonv1.Report{Hostname: host, Timestamp: timestamppb.Now(),
		SystemInfo: &gpumonv1.SystemInfo{CpuPercent: 12.5, MemoryPercent: 40, IpAddress: "10.0.0.7"}}
	for i := range gpus {
		r.GpuData = append(r.GpuData, &gpumonv1.Gpu{Id: int32(i), Name: "NVIDIA H100 <&>", MemoryTotal: 81559, MemoryUsed: uint32(100 * i),
			Utilization: proto.Uint32(util), Temperature: proto.Uint32(40 + uint32(i))})
	}
	return r
}

// refusing is the service refusing every read, as the hub's interceptors
// do for a caller without a token.
type refusing struct{ *service.Fleet }

func (refusing) ListMachines(context.Context, *gpumonv1.ListMachinesRequest) (*gpumonv1.ListMachinesResponse, error) {
	return nil, status.Error(codes.Unauthenticated, "missing bearer token")
}

// pair is the route alone and the route behind the shortcut, over one
// service.
func pair(t *testing.T, srv gpumonv1.FleetServiceServer, c *Cache) (route, short http.Handler) {
	t.Helper()
	route, err := gateway.NewLocal(context.Background(), srv, http.NotFoundHandler(), gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	short, err = gateway.NewLocal(context.Background(), srv, http.NotFoundHandler(),
		gateway.Options{Shortcuts: map[string]func(http.Handler) http.Handler{Pattern: c.Shortcut}})
	if err != nil {
		t.Fatal(err)
	}
	return route, short
}

func get(h http.Handler, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

// same fails unless the shortcut answers target as the route does: status,
// type and body byte for byte.
func same(t *testing.T, step string, route, short http.Handler, target string) {
	t.Helper()
	want, got := get(route, target), get(short, target)
	if got.Code != want.Code || got.Header().Get("Content-Type") != want.Header().Get("Content-Type") || !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
		t.Fatalf("%s, GET %s: shortcut %d %q\n%.400s\nroute %d %q\n%.400s", step, target,
			got.Code, got.Header().Get("Content-Type"), got.Body.Bytes(), want.Code, want.Header().Get("Content-Type"), want.Body.Bytes())
	}
}

// TestAnswersAsTheRouteDoes: for an empty fleet, a fleet, after a change,
// after machines went offline and after one was forgotten, the shortcut's
// answer is the route's; only a changed machine is written again.
func TestAnswersAsTheRouteDoes(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	f := fleet.New(nil)
	fleet.SetClock(f, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	c := &Cache{Fleet: f, Service: &service.Fleet{Fleet: f}}
	route, short := pair(t, c.Service.(*service.Fleet), c)
	check := func(step string) {
		t.Helper()
		for _, target := range []string{"/api/v1/machines", "/api/v1/machines?online_only=true", "/api/v1/machines?online_only=maybe"} {
			same(t, step, route, short, target)
		}
	}
	check("empty fleet")
	for i := range 6 {
		f.IngestLegacy(report(fmt.Sprintf("node-%d\"<", 5-i), i%3, uint32(10*i)))
	}
	check("six machines")
	before := map[string]*entry{}
	for m, e := range c.entries {
		before[m.Key] = e
	}
	f.IngestLegacy(report("node-2\"<", 4, 99))
	check("one machine changed")
	for m, e := range c.entries {
		if changed := m.Key == "node-2\"<"; (e != before[m.Key]) != changed {
			t.Errorf("%s: written again = %v, want %v", m.Key, e != before[m.Key], changed)
		}
	}
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	f.Sweep()
	check("all offline")
	if err := f.Forget("node-4\"<"); err != nil {
		t.Fatal(err)
	}
	check("one forgotten")
	if len(c.entries) != 5 {
		t.Fatalf("%d entries kept for 5 machines", len(c.entries))
	}
}

// TestRefusedRead: a caller the service refuses gets the route's error and
// nothing of the fleet.
func TestRefusedRead(t *testing.T) {
	f := fleet.New(nil)
	f.IngestLegacy(report("secret-host", 1, 5))
	srv := refusing{&service.Fleet{Fleet: f}}
	c := &Cache{Fleet: f, Service: srv}
	route, short := pair(t, srv, c)
	same(t, "refused", route, short, "/api/v1/machines")
	if rec := get(short, "/api/v1/machines"); rec.Code != http.StatusUnauthorized || bytes.Contains(rec.Body.Bytes(), []byte("secret-host")) {
		t.Fatalf("%d %s", rec.Code, rec.Body.Bytes())
	}
}

// BenchmarkListMachines: GET /api/v1/machines of 1,000 machines of which
// one changed since the last read, through the route and through the
// shortcut.
func BenchmarkListMachines(b *testing.B) {
	f := fleet.New(nil)
	for i := range 1000 {
		f.IngestLegacy(report(fmt.Sprintf("node-%04d", i), 8, uint32(i%100)))
	}
	svc := &service.Fleet{Fleet: f}
	c := &Cache{Fleet: f, Service: svc}
	route, err := gateway.NewLocal(context.Background(), svc, http.NotFoundHandler(), gateway.Options{})
	if err != nil {
		b.Fatal(err)
	}
	short := c.Shortcut(route)
	for _, h := range []struct {
		name string
		h    http.Handler
	}{{"route", route}, {"shortcut", short}} {
		b.Run(h.name, func(b *testing.B) {
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				n++
				f.IngestLegacy(report(fmt.Sprintf("node-%04d", n%1000), 8, uint32(n%100)))
				if rec := get(h.h, "/api/v1/machines"); rec.Code != http.StatusOK {
					b.Fatal(rec.Code)
				}
			}
		})
	}
}
