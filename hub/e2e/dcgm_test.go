package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// dashboard12239 is the fixture of NVIDIA's DCGM Exporter Dashboard queries.
type dashboard12239 struct {
	Variables []struct{ Name, Query string }
	Panels    []struct {
		Title, Type, Expr string
		Instant           bool
	}
}

// TestDCGMExporterDashboard runs every query of NVIDIA's dcgm-exporter
// Grafana dashboard (id 12239) through the hub's PromQL API as Grafana
// would, against a simulated DGX H100 and a GeForce workstation: the
// variables resolve to both machines and every GPU, and every panel gets
// data. Figures the GeForce cards do not have (GPM activity) come from the
// DGX only: absent on the others, never zero.
func TestDCGMExporterDashboard(t *testing.T) {
	var d dashboard12239
	raw, err := os.ReadFile("testdata/dcgm-exporter-dashboard-12239.json")
	if err == nil {
		err = json.Unmarshal(raw, &d)
	}
	if err != nil || len(d.Panels) != 8 || len(d.Variables) != 2 {
		t.Fatalf("fixture: %v, %d panels", err, len(d.Panels))
	}
	h := newHub(t)
	startAgent(t, h, "dash-dgx", "dgxh100")
	startAgent(t, h, "dash-rtx", "rtx4090x4")
	waitFor(t, "20 s of GPM activity from the DGX", 90*time.Second, func() bool {
		r := promQuery(t, h.http, `DCGM_FI_PROF_PIPE_TENSOR_ACTIVE`, time.Now().Add(-20*time.Second))
		return len(r.Data.Result) == 8
	})

	vars := map[string]string{}
	for _, v := range d.Variables {
		vals := labelValues(t, h.http, expand(v.Query, vars))
		switch v.Name {
		case "Hostname":
			if !slices.Equal(vals, []string{"dash-dgx", "dash-rtx"}) {
				t.Fatalf("$Hostname = %v", vals)
			}
		case "gpu":
			if !slices.Equal(vals, []string{"0", "1", "2", "3", "4", "5", "6", "7"}) {
				t.Fatalf("$gpu = %v", vals)
			}
		}
		vars[v.Name] = strings.Join(vals, "|") // Grafana's "All" of a multi-value variable
	}

	end := time.Now().Add(-2 * time.Second)
	for _, p := range d.Panels {
		t.Run(p.Title, func(t *testing.T) {
			expr := expand(p.Expr, vars)
			var series []map[string]string
			if p.Instant {
				for _, r := range promQuery(t, h.http, expr, end).Data.Result {
					series = append(series, r.Metric)
				}
			} else {
				for _, r := range promRange(t, h.http, expr, end.Add(-time.Minute), end, 2*time.Second) {
					if len(r.Values) == 0 {
						t.Errorf("%v: no points", r.Metric)
					}
					series = append(series, r.Metric)
				}
			}
			if len(series) == 0 {
				t.Fatalf("%s: no data", expr)
			}
			hosts := map[string]int{}
			for _, s := range series {
				hosts[s["Hostname"]]++
			}
			switch {
			case strings.Contains(expr, "DCGM_FI_PROF_"):
				if hosts["dash-dgx"] != 8 || hosts["dash-rtx"] != 0 {
					t.Errorf("series per machine %v, want the DGX's 8 GPUs only", hosts)
				}
			case strings.Contains(expr, "by (Hostname"):
				if hosts["dash-dgx"] != 8 || hosts["dash-rtx"] != 4 {
					t.Errorf("series per machine %v, want every GPU", hosts)
				}
			}
		})
	}
}

// TestDCGMSeries: the series dcgm-exporter users expect beyond the
// dashboard, with its labels, from the hub's PromQL API; the figures a
// GeForce card lacks are absent for it.
func TestDCGMSeries(t *testing.T) {
	h := newHub(t)
	startAgent(t, h, "dcgm-dgx", "dgxh100")
	startAgent(t, h, "dcgm-rtx", "rtx4090x4")
	waitFor(t, "GPM activity of the DGX", 90*time.Second, func() bool {
		return len(promQuery(t, h.http, `DCGM_FI_PROF_GR_ENGINE_ACTIVE`, time.Time{}).Data.Result) == 8
	})
	busID := regexp.MustCompile(`^00000000:[0-9A-F]{2}:00\.0$`)
	cases := []struct {
		name     string
		dgx, rtx int
	}{
		{"DCGM_FI_DEV_GPU_UTIL", 8, 4},
		{"DCGM_FI_DEV_MEMORY_TEMP", 8, 0},
		{"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", 8, 4},
		{"DCGM_FI_DEV_PCIE_TX_THROUGHPUT", 8, 4},
		{"DCGM_FI_DEV_PCIE_RX_THROUGHPUT", 8, 4},
		{"DCGM_FI_DEV_PCIE_REPLAY_COUNTER", 8, 4},
		{"DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL", 8, 0},
		{"DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", 8, 0},
		{"DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", 8, 0},
		{"DCGM_FI_DEV_ROW_REMAP_FAILURE", 8, 0},
		{"DCGM_FI_PROF_SM_ACTIVE", 8, 0},
		{"DCGM_FI_PROF_DRAM_ACTIVE", 8, 0},
		{"DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", 8, 0},
	}
	for _, tc := range cases {
		r := promQuery(t, h.http, tc.name, time.Time{})
		hosts := map[string]int{}
		for _, s := range r.Data.Result {
			m := s.Metric
			hosts[m["Hostname"]]++
			if m["device"] != "nvidia"+m["gpu"] || !busID.MatchString(m["pci_bus_id"]) || m["DCGM_FI_DRIVER_VERSION"] == "" || m["UUID"] == "" {
				t.Errorf("%s: labels %v lack dcgm-exporter's", tc.name, m)
			}
		}
		if hosts["dcgm-dgx"] != tc.dgx || hosts["dcgm-rtx"] != tc.rtx {
			t.Errorf("%s: series per machine %v, want DGX %d, GeForce %d", tc.name, hosts, tc.dgx, tc.rtx)
		}
	}
	// Counters only grow: energy over the last 10 s.
	r := promQuery(t, h.http, `min(increase(DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION[10s]))`, time.Time{})
	if len(r.Data.Result) != 1 || r.Data.Result[0].Value[1] == "0" {
		t.Errorf("energy increase = %+v, want above 0 on every GPU", r.Data.Result)
	}
}

// expand replaces Grafana variables ($name) by their values.
func expand(expr string, vars map[string]string) string {
	for k, v := range vars {
		expr = strings.ReplaceAll(expr, "$"+k, v)
	}
	return expr
}

// labelValues resolves label_values(selector, label) as Grafana does, with
// /api/v1/label/<label>/values?match[]=selector.
func labelValues(t *testing.T, base, query string) []string {
	t.Helper()
	m := regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`).FindStringSubmatch(query)
	if m == nil {
		t.Fatalf("not a label_values query: %s", query)
	}
	code, body := fetch(t, base+"/api/v1/label/"+m[2]+"/values?"+url.Values{"match[]": {m[1]}}.Encode())
	var r struct {
		Status string
		Data   []string
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil || code != 200 || r.Status != "success" {
		t.Fatalf("%s: %d %s", query, code, body)
	}
	return r.Data
}

// promRange runs a range query and returns its series.
func promRange(t *testing.T, base, expr string, start, end time.Time, step time.Duration) []struct {
	Metric map[string]string
	Values [][2]any
} {
	t.Helper()
	q := url.Values{"query": {expr}, "start": {fmt.Sprint(start.Unix())}, "end": {fmt.Sprint(end.Unix())},
		"step": {fmt.Sprint(step.Seconds())}}
	code, body := fetch(t, base+"/api/v1/query_range?"+q.Encode())
	var r struct {
		Status string
		Data   struct {
			ResultType string
			Result     []struct {
				Metric map[string]string
				Values [][2]any
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil || code != 200 || r.Status != "success" || r.Data.ResultType != "matrix" {
		t.Fatalf("%s: %d %s", expr, code, clip(body))
	}
	return r.Data.Result
}
