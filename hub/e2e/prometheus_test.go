package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// promBinary finds Debian's prometheus. The test command installs it; a run
// outside it skips unless GPUMON_REQUIRE_PROMETHEUS is set.
func promBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("GPUMON_REQUIRE_PROMETHEUS") != "" {
			t.Fatal("prometheus is not installed (apt-get install prometheus)")
		}
		t.Skip("prometheus is not installed; `make test` installs it")
	}
	return bin
}

type promResult struct {
	Status string
	Error  string
	Data   struct {
		ResultType string
		Result     []struct {
			Metric map[string]string
			Value  [2]any
			Values [][2]any
		}
	}
}

func promQuery(t *testing.T, base, expr string, at time.Time) promResult {
	t.Helper()
	q := url.Values{"query": {expr}}
	if !at.IsZero() {
		q.Set("time", fmt.Sprintf("%.3f", float64(at.UnixMilli())/1000))
	}
	resp, err := http.Get(base + "/api/v1/query?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r promResult
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	if r.Status != "success" {
		t.Fatalf("%s: query %s: %s", base, expr, r.Error)
	}
	return r
}

func TestRealPrometheusScrapesAndReceivesRemoteWrite(t *testing.T) {
	bin := promBinary(t)
	promAddr := freeAddr(t)
	prom := "http://" + promAddr
	h := startHubForProm(t, prom)
	cfg := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: gpumon
    static_configs: [{targets: [%q]}]
`, strings.TrimPrefix(h.http, "http://"))
	startPrometheus(t, bin, promAddr, cfg)
	startAgent(t, h, "e2e-prom", "rtx4090x4")

	// Scrape: Prometheus sees the hub up and four GPUs with dcgm-exporter names.
	waitFor(t, "Prometheus to scrape four GPUs", 60*time.Second, func() bool {
		r := promQuery(t, prom, `DCGM_FI_DEV_GPU_UTIL{job="gpumon",Hostname="e2e-prom"}`, time.Time{})
		return len(r.Data.Result) == 4
	})
	if r := promQuery(t, prom, `up{job="gpumon"}`, time.Time{}); len(r.Data.Result) != 1 || r.Data.Result[0].Value[1] != "1" {
		t.Errorf("up = %+v", r.Data.Result)
	}
	for _, name := range []string{"DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_POWER_USAGE", "gpumon_machine_cpu_percent", "gpumon_hub_snapshots_total"} {
		if r := promQuery(t, prom, name+`{job="gpumon"}`, time.Time{}); len(r.Data.Result) == 0 {
			t.Errorf("scraped metrics lack %s", name)
		}
	}

	// Remote write: the hub's own samples arrive (series without a job label)
	// with the same timestamps and values as in the hub's history.
	waitFor(t, "15 s of remote-written samples", 90*time.Second, func() bool {
		r := promQuery(t, prom, `count_over_time(DCGM_FI_DEV_FB_USED{job="",Hostname="e2e-prom",gpu="0"}[30s] offset 3s)`, time.Time{})
		if len(r.Data.Result) != 1 {
			return false
		}
		n, _ := strconv.Atoi(fmt.Sprint(r.Data.Result[0].Value[1]))
		return n >= 15
	})
	at := time.Now().Add(-3 * time.Second)
	theirs := promQuery(t, prom, `DCGM_FI_DEV_FB_USED{job="",Hostname="e2e-prom",gpu="0"}[30s]`, at)
	ours := promQuery(t, h.http, `DCGM_FI_DEV_FB_USED{Hostname="e2e-prom",gpu="0"}[30s]`, at)
	if len(theirs.Data.Result) != 1 || len(ours.Data.Result) != 1 {
		t.Fatalf("series: Prometheus %d, hub %d", len(theirs.Data.Result), len(ours.Data.Result))
	}
	a, b := theirs.Data.Result[0].Values, ours.Data.Result[0].Values
	if len(b) < 10 || !slices.Equal(a, b) {
		t.Errorf("remote-written samples differ from the hub's history:\nPrometheus %v\nhub        %v", a, b)
	}
}

// startPrometheus runs Debian's Prometheus with config cfg, its remote-write
// receiver on, on addr, and waits until it is ready.
func startPrometheus(t *testing.T, bin, addr, cfg string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	start(t, bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--web.enable-remote-write-receiver")
	waitFor(t, "Prometheus ready", 60*time.Second, func() bool {
		resp, err := http.Get("http://" + addr + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

func startHubForProm(t *testing.T, prom string) *hub {
	return newHub(t, "--remote-write-url", prom+"/api/v1/write")
}
