package docker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"go.uber.org/goleak"

	"github.com/gpumon/gpumon/agent/internal/collect"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// fakeAPI serves the recorded containers from testdata.
type fakeAPI struct {
	t  *testing.T
	mu sync.Mutex
	// listErr, when set, is returned by ContainerList.
	listErr  error
	inspects int
	closed   bool
}

func (f *fakeAPI) ContainerList(context.Context, container.ListOptions) ([]container.Summary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.listErr != nil {
		return nil, f.listErr
	}
	return load[[]container.Summary](f.t, "containers.json"), nil
}

func (f *fakeAPI) ContainerInspect(_ context.Context, id string) (container.InspectResponse, error) {
	f.mu.Lock()
	f.inspects++
	f.mu.Unlock()
	return load[container.InspectResponse](f.t, "inspect-"+id[:12]+".json"), nil
}

func (f *fakeAPI) ContainerStats(_ context.Context, id string, stream bool) (container.StatsResponseReader, error) {
	if stream {
		return container.StatsResponseReader{}, errors.New("streaming stats asked for")
	}
	st := load[json.RawMessage](f.t, "stats-"+id[:12]+".json")
	return container.StatsResponseReader{Body: io.NopCloser(bytes.NewReader(st)), OSType: "linux"}, nil
}

func (f *fakeAPI) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

// describe writes the containers in one comparable line each.
func describe(cs []*gpumonv1.DockerContainer) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "%s %s %s %s %s cpu=%.1f mem=%.0f limit=%.0f gpus=%v %s\n", c.Id, c.Name, c.State, c.Status,
			c.Image, c.CpuPercent, c.MemoryUsage, c.MemoryLimit, c.GpuIds, c.GpuDevices)
	}
	return b.String()
}

// wantRecorded is the recorded containers as Collect reports them, by name.
const wantRecorded = `116f54c41d04 alice-train running Up 3 hours pytorch/pytorch:2.4.0-cuda12.1-cudnn9-runtime cpu=300.0 mem=6447169536 limit=270355148800 gpus=[0 1] [0,1]
9916a5fb8a8d bob-jupyter running Up 5 hours nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04 cpu=50.0 mem=537919488 limit=8589934592 gpus=[2 3] [2,3]
5be1ecc7935f web running Up 2 days nginx:1.27 cpu=0.0 mem=13107200 limit=270355148800 gpus=[] 
`

// collectUntil collects until the report matches want (the background
// refresh has run), or fails.
func collectUntil(t *testing.T, c *Collector, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var got string
	for time.Now().Before(deadline) {
		var s collect.Sample
		if err := c.Collect(context.Background(), &s); err != nil {
			t.Fatalf("Collect: %v", err)
		}
		if got = describe(s.Containers); got == want {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("containers:\n%s\nwant:\n%s", got, want)
}

func TestCollectFake(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	api := &fakeAPI{t: t}
	c := New(nil, WithAPI(api), WithListInterval(10*time.Millisecond), WithStatsInterval(10*time.Millisecond))
	collectUntil(t, c, wantRecorded)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if !api.closed {
		t.Error("client not closed")
	}
	if api.inspects != 3 {
		t.Errorf("%d inspect calls, want one per container", api.inspects)
	}
}

func TestCollectListFails(t *testing.T) {
	api := &fakeAPI{t: t}
	c := New(nil, WithAPI(api), WithListInterval(10*time.Millisecond), WithStatsInterval(10*time.Millisecond))
	defer c.Close()
	collectUntil(t, c, wantRecorded)
	api.mu.Lock()
	api.listErr = errors.New("request returned 500 Internal Server Error")
	api.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var s collect.Sample
		err := c.Collect(context.Background(), &s)
		if err != nil {
			if errors.Is(err, collect.ErrUnavailable) {
				t.Errorf("a failing daemon reported unavailable: %v", err)
			}
			if describe(s.Containers) != wantRecorded {
				t.Errorf("last known containers dropped: %s", describe(s.Containers))
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("list error never reported")
}

func TestCloseWithoutCollect(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	api := &fakeAPI{t: t}
	c := New(nil, WithAPI(api))
	if err := c.Close(); err != nil || !api.closed {
		t.Fatalf("Close = %v, closed %v", err, api.closed)
	}
	var s collect.Sample
	if err := c.Collect(context.Background(), &s); err != nil || len(s.Containers) != 0 {
		t.Fatalf("Collect after Close = %v, %v", err, s.Containers)
	}
}
