package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/gpumon/gpumon/common/wirejson"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// bigReport is a documented report listing procs processes whose command
// lines are cmdLen bytes, and its protobuf size as the hub stores it.
func bigReport(t *testing.T, host string, procs, cmdLen int) ([]byte, int) {
	t.Helper()
	type process struct {
		PID        int     `json:"pid"`
		Name       string  `json:"name"`
		Cmdline    string  `json:"cmdline"`
		CPU        float64 `json:"cpu_percent"`
		Memory     float64 `json:"memory_percent"`
		CreateTime float64 `json:"create_time"`
		Status     string  `json:"status"`
		Username   string  `json:"username"`
	}
	ps := make([]process, procs)
	for i := range ps {
		cmd := fmt.Sprintf("python train.py --run %d ", i)
		ps[i] = process{PID: 1000 + i, Name: "python", Cmdline: cmd + strings.Repeat("x", max(0, cmdLen-len(cmd))),
			CPU: 1.5, Memory: 0.25, CreateTime: 1.7e9 + float64(i), Status: "sleeping", Username: "alice"}
	}
	body, err := json.Marshal(map[string]any{
		"hostname": host,
		"gpu_data": []any{map[string]any{"id": 0, "name": "NVIDIA H100", "memory_used": 1024, "memory_total": 81559, "utilization": 50}},
		"system_info": map[string]any{"cpu_percent": 12.5, "memory_total": 1 << 40, "memory_used": 1 << 39,
			"ip_address": "10.0.0.1", "processes": ps},
	})
	if err != nil {
		t.Fatal(err)
	}
	var r gpumonv1.Report
	if err := (wirejson.Lenient{}).Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	return body, proto.Size(&r)
}

// reportNear is a report of host whose protobuf size is within 5 % under max.
func reportNear(t *testing.T, host string, max int) []byte {
	t.Helper()
	const cmdLen = 300
	_, one := bigReport(t, host, 1, cmdLen)
	_, two := bigReport(t, host, 2, cmdLen)
	per, base := two-one, one-(two-one)
	procs := (max*97/100 - base) / per
	body, size := bigReport(t, host, procs, cmdLen)
	if size > max || size < max*95/100 {
		t.Fatalf("report of %d processes is %d bytes, want just under %d", procs, size, max)
	}
	return body
}

func postReport(t *testing.T, base string, body []byte) (int, map[string]any) {
	t.Helper()
	code, v, _ := call(t, http.MethodPost, base+"/api/report-gpu-stats", "", bytes.NewReader(body))
	m, _ := v.(map[string]any)
	return code, m
}

// sizingScale reads the size of the at-the-cap test: `make test` runs 20
// machines at 256 KiB; GPUMON_SIZING_MACHINES and GPUMON_SIZING_BYTES run
// it bigger (the figures in the README's sizing paragraph).
func sizingScale() (machines, reportBytes int) {
	machines, reportBytes = 20, 256<<10
	if v, err := strconv.Atoi(os.Getenv("GPUMON_SIZING_MACHINES")); err == nil && v > 0 {
		machines = v
	}
	if v, err := strconv.Atoi(os.Getenv("GPUMON_SIZING_BYTES")); err == nil && v > 0 {
		reportBytes = v
	}
	return
}

// TestFleetAtItsCaps fills a hub to --max-machines with reports at
// --max-report-bytes: new machines, larger reports and longer process lists
// are refused with 507 (ResourceExhausted over gRPC), logged and not stored;
// GET /api/gpu-stats answers at the cap; the hub stops and starts again in
// bounded time with its registry.
func TestFleetAtItsCaps(t *testing.T) {
	n, size := sizingScale()
	dir, httpAddr, grpcAddr := t.TempDir(), freeAddr(t), freeAddr(t)
	caps := []string{"--legacy-open", "--max-machines", strconv.Itoa(n), "--max-report-bytes", strconv.Itoa(size), "--max-report-processes", "4000"}
	h := startHub(t, dir, httpAddr, grpcAddr, caps...)
	rss0 := metric(t, h.http, "process_resident_memory_bytes")
	for i := range n {
		if code, v := postReport(t, h.http, reportNear(t, fmt.Sprintf("e2e-size-%04d", i), size)); code != http.StatusOK {
			t.Fatalf("machine %d of %d: %d %v", i+1, n, code, v)
		}
	}

	refusals := []struct {
		name string
		body []byte
		msg  string
	}{
		{"a new machine past --max-machines", reportNear(t, "e2e-size-new", size/2), fmt.Sprintf("maximum of %d machines", n)},
		{"a report over --max-report-bytes", reportNear(t, "e2e-size-0000", size*2), "--max-report-bytes"},
		{"more processes than --max-report-processes", func() []byte { b, _ := bigReport(t, "e2e-size-0001", 4001, 10); return b }(), "4001 processes"},
	}
	for _, r := range refusals {
		code, v := postReport(t, h.http, r.body)
		if code != http.StatusInsufficientStorage || v["status"] != "error" || !strings.Contains(fmt.Sprint(v["message"]), r.msg) {
			t.Errorf("%s: %d %v, want 507 naming %q", r.name, code, v, r.msg)
		}
	}
	for i := range 200 { // random hostnames: all refused, none stored
		if code, _ := postReport(t, h.http, []byte(fmt.Sprintf(`{"hostname":"e2e-rand-%d"}`, i))); code != http.StatusInsufficientStorage {
			t.Fatalf("random hostname %d: %d, want 507", i, code)
		}
	}
	if code, v := postReport(t, h.http, reportNear(t, "e2e-size-0002", size)); code != http.StatusOK {
		t.Errorf("a known machine reporting again: %d %v", code, v)
	}
	code, msg := streamCode(t, dialHub(t, h), agentToken, hello("e2e-size-agent"))
	if code != codes.ResourceExhausted || !strings.Contains(msg, "--max-machines") {
		t.Errorf("a new agent past --max-machines: %v %q, want ResourceExhausted", code, msg)
	}
	waitFor(t, "refusals logged at warn", 10*time.Second, func() bool {
		out := h.out.String()
		return strings.Contains(out, `level=WARN msg="report refused"`) && strings.Contains(out, "result=ResourceExhausted") &&
			strings.Contains(out, "--max-report-bytes") && strings.Contains(out, "remote=127.0.0.1")
	})

	// The documented route at the cap.
	begin := time.Now()
	resp, err := http.Get(h.http + "/api/gpu-stats")
	if err != nil {
		t.Fatal(err)
	}
	stats, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/gpu-stats at the cap: %d %v %.200s", resp.StatusCode, err, stats)
	}
	var fleet struct{ Machines map[string]any }
	if err := json.Unmarshal(stats, &fleet); err != nil || len(fleet.Machines) != n {
		t.Fatalf("GET /api/gpu-stats at the cap: %d machines (%v), want %d", len(fleet.Machines), err, n)
	}
	took := time.Since(begin)
	// The page's fleet overview lists every GPU of the full hub (one each).
	// include_offline: a machine that posted at the start may count as
	// offline by now on a slow machine.
	status, v, _ := call(t, http.MethodGet, h.http+"/api/v1/gpus?include_offline=true", "", nil)
	if rows, _ := v.(map[string]any)["gpus"].([]any); status != http.StatusOK || len(rows) != n {
		t.Fatalf("GET /api/v1/gpus at the cap: %d, %d GPUs, want 200 and %d", status, len(rows), n)
	}
	rss1 := metric(t, h.http, "process_resident_memory_bytes")
	t.Logf("%d machines at %d KiB each: RSS %.0f → %.0f MiB (%.2f MiB per machine); GET /api/gpu-stats %.1f MiB in %s",
		n, size>>10, rss0/(1<<20), rss1/(1<<20), (rss1-rss0)/float64(n)/(1<<20), float64(len(stats))/(1<<20), took.Round(time.Millisecond))

	// Stop (the registry is saved) and start again.
	begin = time.Now()
	h.stop()
	stopped := time.Since(begin)
	info, err := os.Stat(filepath.Join(dir, "registry.bin"))
	if err != nil {
		t.Fatal(err)
	}
	begin = time.Now()
	h = startHub(t, dir, httpAddr, grpcAddr, caps...)
	t.Logf("SIGTERM to exit %s with a registry of %.1f MiB; ready again in %s", stopped.Round(time.Millisecond),
		float64(info.Size())/(1<<20), time.Since(begin).Round(time.Millisecond))
	if got := len(machines(t, h.http)); got != n {
		t.Errorf("after the restart: %d machines, want %d", got, n)
	}
	if code, _ := postReport(t, h.http, []byte(`{"hostname":"e2e-after-restart"}`)); code != http.StatusInsufficientStorage {
		t.Errorf("a new machine after the restart: %d, want 507 (still full)", code)
	}
}

// TestHugeReportsRefused: 48 posts of 20,000 processes (~7 MB each, under
// the 8 MiB body limit) took a hub from 376 MiB to 3.5 GiB and broke GET
// /api/gpu-stats for good. At the default caps each is refused with 507 and
// nothing is stored.
func TestHugeReportsRefused(t *testing.T) {
	h := newHub(t, "--legacy-open")
	rss0 := metric(t, h.http, "process_resident_memory_bytes")
	body, size := bigReport(t, "e2e-huge", 20000, 200)
	for i := range 48 {
		b := bytes.Replace(body, []byte(`"e2e-huge"`), []byte(fmt.Sprintf(`"e2e-huge-%02d"`, i)), 1)
		if code, v := postReport(t, h.http, b); code != http.StatusInsufficientStorage || !strings.Contains(fmt.Sprint(v["message"]), "--max-report-processes") {
			t.Fatalf("post %d (%.1f MB, %d bytes as protobuf): %d %v, want 507", i, float64(len(b))/1e6, size, code, v)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.http+"/api/gpu-stats", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	rss1 := metric(t, h.http, "process_resident_memory_bytes")
	t.Logf("48 posts of %.1f MB refused; RSS %.0f → %.0f MiB", float64(len(body))/1e6, rss0/(1<<20), rss1/(1<<20))
	if resp.StatusCode != http.StatusOK || len(machines(t, h.http)) != 0 {
		t.Errorf("GET /api/gpu-stats: %d with %d machines, want 200 and none", resp.StatusCode, len(machines(t, h.http)))
	}
}

// TestMoreProcessesThanTheHubTakes: a machine running more processes than a
// report may list (or than fit in --max-report-bytes) is shown with its list
// cut, GPU processes first, and keeps reporting. Refusing its snapshots
// stopped the machine for good: its agent replays a refused snapshot, so
// every later one waited behind it.
func TestMoreProcessesThanTheHubTakes(t *testing.T) {
	for _, c := range []struct {
		name, flag, value, why string
	}{
		{"processes", "--max-report-processes", "8", "at most 8 processes"},
		{"bytes", "--max-report-bytes", "6000", "at most 6000 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHub(t, c.flag, c.value)
			startAgent(t, h, "e2e-many", "rtx4090x4")
			waitFor(t, "e2e-many online", 30*time.Second, func() bool {
				known, on := online(t, h.http, "e2e-many")
				return known && on
			})
			// The simulator's jobs start after the first samples.
			var procs, gpuProcs []any
			var note string
			waitFor(t, "e2e-many's GPU processes listed", 30*time.Second, func() bool {
				rep := get(t, h.http+"/api/v1/machines/e2e-many").(map[string]any)["report"].(map[string]any)
				procs = rep["system_info"].(map[string]any)["processes"].([]any)
				gpuProcs = gpuProcs[:0]
				for _, g := range rep["gpu_data"].([]any) {
					gp, _ := g.(map[string]any)["processes"].([]any)
					gpuProcs = append(gpuProcs, gp...)
				}
				note = ""
				for _, s := range rep["collectors"].([]any) {
					if s := s.(map[string]any); s["name"] == "process" {
						note, _ = s["message"].(string)
					}
				}
				return len(gpuProcs) > 0 && note != ""
			})
			t.Logf("%d processes listed, %d on GPUs; %q", len(procs), len(gpuProcs), note)
			if c.name == "processes" && len(procs) != 8 {
				t.Errorf("%d processes listed, want 8", len(procs))
			}
			var kept, total int
			if _, err := fmt.Sscanf(note, "%d of %d processes listed", &kept, &total); err != nil || kept != len(procs) || total <= kept ||
				!strings.Contains(note, "(the hub takes "+c.why+" per report)") {
				t.Errorf("process collector says %q, want %d of more processes listed, and why (%s)", note, len(procs), c.why)
			}
			listed := map[string]bool{}
			for _, p := range procs {
				listed[fmt.Sprint(p.(map[string]any)["pid"])] = true
			}
			for _, p := range gpuProcs {
				if pid := fmt.Sprint(p.(map[string]any)["pid"]); !listed[pid] {
					t.Errorf("GPU process %v is not in the cut list", pid)
				}
			}
			// It keeps reporting: three more snapshots taken.
			before := metric(t, h.http, "gpumon_hub_snapshots_total")
			waitFor(t, "three more snapshots of e2e-many", 30*time.Second, func() bool {
				return metric(t, h.http, "gpumon_hub_snapshots_total") >= before+3
			})
			if n := metric(t, h.http, "gpumon_hub_rejected_snapshots_total"); n != 0 {
				t.Errorf("%v snapshots refused, want none", n)
			}
			if n := metric(t, h.http, "gpumon_hub_cut_snapshots_total"); c.name == "bytes" && n == 0 {
				t.Error("no snapshot counted as cut by the hub, want every one")
			}
		})
	}
}
