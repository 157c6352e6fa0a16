package gateway

import (
	"compress/gzip"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/gpumon/gpumon/common/apimeta"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// fakeFleet answers GetGpuStats for a fleet whose version the test sets.
type fakeFleet struct {
	gpumonv1.UnimplementedFleetServiceServer
	mu      sync.Mutex
	version string
	host    string
	full    int // answers that carried the fleet
	deny    bool
}

func (f *fakeFleet) GetGpuStats(ctx context.Context, _ *gpumonv1.GetGpuStatsRequest) (*gpumonv1.GetGpuStatsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.deny {
		return nil, status.Error(codes.Unauthenticated, "missing token")
	}
	_ = grpc.SetHeader(ctx, metadata.Pairs(apimeta.FleetVersion, f.version))
	if md, _ := metadata.FromIncomingContext(ctx); slices.Contains(md.Get(apimeta.IfVersion), f.version) {
		return &gpumonv1.GetGpuStatsResponse{}, nil
	}
	f.full++
	return &gpumonv1.GetGpuStatsResponse{Machines: map[string]*gpumonv1.Report{f.host: {Hostname: f.host, IsOnline: true}}}, nil
}

func (f *fakeFleet) set(version, host string) {
	f.mu.Lock()
	f.version, f.host = version, host
	f.mu.Unlock()
}

func startFake(t *testing.T, f *fakeFleet) http.Handler {
	t.Helper()
	ln := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	gpumonv1.RegisterFleetServiceServer(srv, f)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///fake",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return ln.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	h, err := New(context.Background(), conn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func fetch(t *testing.T, h http.Handler, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/api/gpu-stats", nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	var body io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		body = zr
	}
	data, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(data)
}

// The body is rendered once per fleet version; every request still asks
// the hub, which answers an unchanged fleet with an empty message.
func TestGpuStatsRenderedOncePerVersion(t *testing.T) {
	f := &fakeFleet{}
	f.set("a.1", "node-1")
	h := startFake(t, f)
	_, first := fetch(t, h, nil)
	if !strings.Contains(first, `"node-1"`) || !strings.Contains(first, `"is_online":true`) {
		t.Fatalf("first body %s", first)
	}
	resp, again := fetch(t, h, map[string]string{"Accept-Encoding": "gzip"})
	if again != first || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("cached gzip body %q (encoding %q), want %q", again, resp.Header.Get("Content-Encoding"), first)
	}
	if f.full != 1 {
		t.Errorf("hub sent the fleet %d times for one version, want 1", f.full)
	}
	etag := resp.Header.Get("ETag")
	if r304, _ := fetch(t, h, map[string]string{"If-None-Match": etag}); r304.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match %s: status %d, want 304", etag, r304.StatusCode)
	}
	f.set("a.2", "node-2")
	if _, next := fetch(t, h, nil); !strings.Contains(next, `"node-2"`) {
		t.Errorf("after a change: %s", next)
	}
}

func TestGpuStatsErrorBody(t *testing.T) {
	f := &fakeFleet{deny: true}
	h := startFake(t, f)
	resp, body := fetch(t, h, nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `"status":"error"`) {
		t.Errorf("status %d body %s", resp.StatusCode, body)
	}
}
