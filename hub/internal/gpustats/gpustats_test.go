package gpustats

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gpumon/gpumon/common/wirejson"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
	"github.com/gpumon/gpumon/hub/internal/service"
)

func report(host string, procs int, cpu float64) *gpumonv1.Report {
	r := &gpumonv1.Report{
		Hostname: host, Timestamp: timestamppb.New(time.Now().Truncate(time.Millisecond)),
		SystemInfo: &gpumonv1.SystemInfo{CpuPercent: cpu, MemoryTotal: 1 << 40, IpAddress: "10.0.0.7",
			DockerContainers: []*gpumonv1.DockerContainer{{Id: "3f2a9c1b7d4e", Name: "jupyter", GpuDevices: "[0,1]"}}},
	}
	for i := range procs {
		r.SystemInfo.Processes = append(r.SystemInfo.Processes, &gpumonv1.Process{
			Pid: int32(100 + i), Name: "python", Cmdline: fmt.Sprintf("python train.py --run %d </script> & \u2028 \"q\"", i), CpuPercent: 1.5})
	}
	r.GpuData = []*gpumonv1.Gpu{{Id: 0, Name: "NVIDIA H100", MemoryTotal: 81559, Temperature: proto.Uint32(55),
		Processes: []*gpumonv1.Process{r.SystemInfo.Processes[0]}}, {Id: 1, Name: "NVIDIA H100"}}
	return r
}

// reference is today's rendering of the route: the service's answer through
// the documented encoder.
func reference(t *testing.T, f *fleet.Fleet) []byte {
	t.Helper()
	resp, err := (&service.Fleet{Fleet: f}).GetGpuStats(context.Background(), &gpumonv1.GetGpuStatsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return wirejson.AppendDocumented(nil, resp)
}

type allow struct{ err error }

func (a allow) GetGpuStats(context.Context, *gpumonv1.GetGpuStatsRequest) (*gpumonv1.GetGpuStatsResponse, error) {
	return &gpumonv1.GetGpuStatsResponse{}, a.err
}

func get(t *testing.T, h http.Handler, gz bool) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/api/gpu-stats", nil)
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	body := rec.Body.Bytes()
	if resp.StatusCode == http.StatusOK && resp.Header.Get("Content-Length") != fmt.Sprint(len(body)) {
		t.Errorf("Content-Length %s for %d bytes", resp.Header.Get("Content-Length"), len(body))
	}
	if gz && resp.StatusCode == http.StatusOK {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("gzip body: %v", err)
		}
		zr.Multistream(false) // one gzip member, as browsers read it
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("gzip body (CRC and length are checked at its end): %v", err)
		}
		body = plain
	}
	return resp, body
}

// TestBodyMatchesTheServiceRendering: the stitched body, plain and gzip, is
// byte for byte what rendering the service's whole answer gives, for an
// empty fleet, a fleet, after one machine changed, after one went offline
// and after one was forgotten; only the changed machine is rendered again.
func TestBodyMatchesTheServiceRendering(t *testing.T) {
	f := fleet.New(nil)
	h := &Handler{Fleet: f, Service: allow{}}
	check := func(step string) {
		t.Helper()
		want := reference(t, f)
		for _, gz := range []bool{false, true} {
			resp, got := get(t, h, gz)
			if resp.StatusCode != http.StatusOK || !bytes.Equal(got, want) {
				t.Fatalf("%s (gzip %v): %d\n got %.300s\nwant %.300s", step, gz, resp.StatusCode, got, want)
			}
		}
	}
	check("empty fleet")
	for i := range 5 {
		f.IngestLegacy(report(fmt.Sprintf("node-%d<&>", 4-i), 20+i, float64(i)))
	}
	check("five machines")
	before := map[string]*part{}
	for m, p := range h.parts {
		before[m.Key] = p
	}
	f.IngestLegacy(report("node-2<&>", 7, 99))
	check("one machine changed")
	for m, p := range h.parts {
		if changed := m.Key == "node-2<&>"; (p != before[m.Key]) != changed {
			t.Errorf("%s: rendered again = %v, want %v", m.Key, p != before[m.Key], changed)
		}
	}
	if len(h.parts) != 5 {
		t.Fatalf("%d parts kept for 5 machines", len(h.parts))
	}
}

// TestForgottenMachineDropped: a forgotten machine leaves the body and the
// cache.
func TestForgottenMachineDropped(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	f := fleet.New(nil)
	fleet.SetClock(f, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	h := &Handler{Fleet: f, Service: allow{}}
	f.IngestLegacy(report("a", 3, 1))
	f.IngestLegacy(report("b", 3, 1))
	get(t, h, true)
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	f.Sweep()
	if err := f.Forget("a"); err != nil {
		t.Fatal(err)
	}
	_, got := get(t, h, false)
	if want := reference(t, f); !bytes.Equal(got, want) || strings.Contains(string(got), `"a":`) {
		t.Fatalf("got %.200s\nwant %.200s", got, want)
	}
	if len(h.parts) != 1 {
		t.Fatalf("%d parts kept for 1 machine", len(h.parts))
	}
}

// TestRefusedRead: the service's refusal is the documented error body, and
// nothing of the fleet is sent.
func TestRefusedRead(t *testing.T) {
	f := fleet.New(nil)
	f.IngestLegacy(report("secret-host", 3, 1))
	h := &Handler{Fleet: f, Service: allow{err: status.Error(codes.Unauthenticated, "missing bearer token")}}
	resp, body := get(t, h, true)
	if resp.StatusCode != http.StatusUnauthorized || strings.Contains(string(body), "secret-host") ||
		!strings.Contains(string(body), `"status":"error"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

// TestETag: an unchanged fleet answers 304 to its ETag; a change makes a new
// one.
func TestETag(t *testing.T) {
	f := fleet.New(nil)
	h := &Handler{Fleet: f, Service: allow{}}
	f.IngestLegacy(report("a", 3, 1))
	resp, _ := get(t, h, false)
	etag := resp.Header.Get("ETag")
	req := httptest.NewRequest(http.MethodGet, "/api/gpu-stats", nil)
	req.Header.Set("If-None-Match", etag)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Fatalf("unchanged fleet: %d", rec.Code)
	}
	f.IngestLegacy(report("a", 3, 2))
	if resp, _ := get(t, h, false); resp.Header.Get("ETag") == etag {
		t.Fatal("same ETag after a change")
	}
}

func TestCRC32Combine(t *testing.T) {
	data := bytes.Repeat([]byte("gpumon stitches deflated parts. "), 5000)
	for _, cut := range []int{0, 1, 7, 4096, len(data) - 1, len(data)} {
		a, b := data[:cut], data[cut:]
		got := crc32Combine(crc32.ChecksumIEEE(a), crc32.ChecksumIEEE(b), x2nModP(uint64(len(b)), 3))
		if want := crc32.ChecksumIEEE(data); got != want {
			t.Errorf("cut at %d: %08x, want %08x", cut, got, want)
		}
	}
}

// TestWarmKeepsPartsCurrent: after a gzip read, Run's step writes and
// deflates the part of a machine that changed, and the next read uses it
// as it is; a plain-only reader gets plain parts only; when nobody read for
// Keep, the parts are let go and a read renders them again, the same bytes.
func TestWarmKeepsPartsCurrent(t *testing.T) {
	f := fleet.New(nil)
	h := &Handler{Fleet: f, Service: allow{}, Keep: time.Minute}
	for i := range 3 {
		f.IngestLegacy(report(fmt.Sprintf("node-%d", i), 10, 1))
	}
	get(t, h, false)
	f.IngestLegacy(report("node-1", 12, 2))
	h.warm(time.Now())
	m, _ := f.Get("node-1")
	p := h.parts[m]
	if p == nil || p.state != m.State() || !p.ready(false) || p.ready(true) {
		t.Fatalf("after a plain read: part %+v, want the new state written, not deflated", p)
	}
	get(t, h, true)
	f.IngestLegacy(report("node-1", 13, 3))
	h.warm(time.Now())
	p = h.parts[m]
	if p.state != m.State() || !p.ready(true) {
		t.Fatal("after a gzip read: the changed machine's part is not deflated in the background")
	}
	for _, gz := range []bool{false, true} {
		if _, got := get(t, h, gz); !bytes.Equal(got, reference(t, f)) {
			t.Fatalf("gzip %v: body differs from the service's rendering", gz)
		}
	}
	if h.parts[m] != p {
		t.Fatal("the read wrote the part again instead of using the warmed one")
	}
	h.warm(time.Now().Add(2 * time.Minute))
	if h.parts != nil || h.last != nil {
		t.Fatalf("nobody read for Keep: %d parts kept", len(h.parts))
	}
	for _, gz := range []bool{true, false} {
		if _, got := get(t, h, gz); !bytes.Equal(got, reference(t, f)) {
			t.Fatalf("gzip %v, after letting go: body differs from the service's rendering", gz)
		}
	}
}

// TestManyReadersOfAChangingFleet: readers, plain and gzip, while machines
// change and Run's step runs, each get a whole body (gzip: CRC and length
// right); a read after the changes stop is the service's rendering.
func TestManyReadersOfAChangingFleet(t *testing.T) {
	f := fleet.New(nil)
	h := &Handler{Fleet: f, Service: allow{}}
	for i := range 60 {
		f.IngestLegacy(report(fmt.Sprintf("node-%02d", i), 20, 1))
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			f.IngestLegacy(report(fmt.Sprintf("node-%02d", n%60), 20+n%3, float64(n)))
			if n%7 == 0 {
				h.warm(time.Now())
			}
		}
	})
	var readers sync.WaitGroup
	for r := range 6 {
		readers.Go(func() {
			for range 15 {
				_, body := get(t, h, r%2 == 0) // a gzip body's CRC and length are checked
				var v struct {
					Machines map[string]json.RawMessage `json:"machines"`
				}
				if err := json.Unmarshal(body, &v); err != nil || len(v.Machines) != 60 {
					t.Errorf("reader %d: %d machines, %v", r, len(v.Machines), err)
					return
				}
			}
		})
	}
	readers.Wait()
	close(stop)
	wg.Wait()
	for _, gz := range []bool{false, true} {
		if _, got := get(t, h, gz); !bytes.Equal(got, reference(t, f)) {
			t.Fatalf("gzip %v: body differs from the service's rendering", gz)
		}
	}
}
