package exporter

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func report() *gpumonv1.Report {
	return &gpumonv1.Report{
		Hostname: "node-7", DriverVersion: "550.54.15", IntervalSeconds: 2,
		GpuData: []*gpumonv1.Gpu{{Id: 0, Uuid: "GPU-a", Name: "NVIDIA H100 80GB HBM3", PciBusId: "00000000:18:00.0",
			MemoryTotal: 81559, MemoryUsed: 1000, Utilization: proto.Uint32(87), EccErrorsCorrected: proto.Uint32(2),
			Processes: []*gpumonv1.Process{{Pid: 10, Username: "alice", GpuMemoryUsage: 990}}}},
		SystemInfo: &gpumonv1.SystemInfo{CpuPercent: 12.5},
		Collectors: []*gpumonv1.CollectorStatus{{Name: "gpu", State: gpumonv1.CollectorState_COLLECTOR_STATE_OK, DurationSeconds: 0.01}},
	}
}

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// TestScrape: the latest sample's series with the hub's names and labels;
// nothing that looks live once the sampler has stopped; nothing before the
// first sample.
func TestScrape(t *testing.T) {
	now := time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
	e := New(nil)
	e.now = func() time.Time { return now }
	h := e.Handler()
	if text := scrape(t, h); strings.Contains(text, "DCGM_") || !strings.Contains(text, "go_goroutines") {
		t.Errorf("before the first sample:\n%s", text)
	}

	r := report()
	e.Observe(r, "")
	r.GpuData[0].Utilization = proto.Uint32(1) // the stream strips and reuses the report afterwards
	gpu := `{DCGM_FI_DRIVER_VERSION="550.54.15",Hostname="node-7",UUID="GPU-a",device="nvidia0",gpu="0",machine="node-7",modelName="NVIDIA H100 80GB HBM3",pci_bus_id="00000000:18:00.0"}`
	text := scrape(t, h)
	for _, want := range []string{
		"DCGM_FI_DEV_GPU_UTIL" + gpu + " 87\n",
		"# TYPE DCGM_FI_DEV_ECC_SBE_VOL_TOTAL counter\n",
		`gpumon_user_gpus{Hostname="node-7",machine="node-7",user="alice"} 1` + "\n",
		`gpumon_machine_cpu_percent{Hostname="node-7",machine="node-7"} 12.5` + "\n",
		`gpumon_agent_collector_success{Hostname="node-7",collector="gpu",machine="node-7"} 1` + "\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if strings.Contains(text, "gpumon_machine_online") {
		t.Error("the agent writes the hub's online series")
	}

	e.Observe(report(), "node-7@2f1c")
	if text := scrape(t, h); !strings.Contains(text, `machine="node-7@2f1c"`) {
		t.Errorf("the hub's key is not the machine label:\n%s", text)
	}

	now = now.Add(9 * time.Second) // within max(3 intervals, 10 s)
	if text := scrape(t, h); !strings.Contains(text, "DCGM_FI_DEV_GPU_UTIL") {
		t.Error("a sample 9 s old is gone")
	}
	now = now.Add(2 * time.Second)
	if text := scrape(t, h); strings.Contains(text, "DCGM_") || strings.Contains(text, "gpumon_machine") {
		t.Errorf("a sample 11 s old is still served:\n%s", text)
	}
}

// TestServe: the server answers /metrics and a page at /, refuses other
// methods and paths, and stops with its context.
func TestServe(t *testing.T) {
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := New(nil)
	e.Observe(report(), "")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()
	cases := []struct {
		method, path string
		code         int
		body         string
	}{
		{http.MethodGet, "/metrics", 200, "DCGM_FI_DEV_GPU_UTIL"},
		{http.MethodGet, "/", 200, `href="/metrics"`},
		{http.MethodPost, "/metrics", 405, ""},
		{http.MethodGet, "/debug/pprof/", 404, ""},
	}
	for _, tc := range cases {
		req, _ := http.NewRequest(tc.method, base+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code || !strings.Contains(string(b), tc.body) {
			t.Errorf("%s %s: %d, want %d with %q", tc.method, tc.path, resp.StatusCode, tc.code, tc.body)
		}
	}
	http.DefaultClient.CloseIdleConnections()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve after cancel: %v", err)
	}

	// A port in use is an error naming the flag.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if _, err := Listen(busy.Addr().String()); err == nil || !strings.Contains(err.Error(), "--metrics-addr") {
		t.Errorf("Listen on a busy port: %v", err)
	}
}
