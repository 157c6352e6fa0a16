//go:build ecosystem

package ecosystem

import (
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

type dashboard struct {
	Panels []struct {
		Title   string `json:"title"`
		Type    string `json:"type"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

// mustHave are the expressions the dashboard is for.
var mustHave = []string{
	`DCGM_FI_DEV_GPU_UTIL{Hostname=~"$host"}`,
	`DCGM_FI_DEV_FB_USED{Hostname=~"$host"}`,
	`DCGM_FI_DEV_GPU_TEMP{Hostname=~"$host"}`,
	`DCGM_FI_DEV_POWER_USAGE{Hostname=~"$host"}`,
	`gpumon_machine_cpu_percent{Hostname=~"$host"}`,
	`gpumon_machine_memory_percent{Hostname=~"$host"}`,
	`gpumon_machine_online{Hostname=~"$host"}`,
	`sum by (user) (increase(gpumon_user_gpu_seconds_total{Hostname=~"$host"}[$__range])) / 3600`,
	`gpumon_gpu_idle_held_seconds{Hostname=~"$host"} > 0`,
	`rate(gpumon_hub_snapshots_total[1m])`,
	`gpumon_hub_agent_streams`,
}

// TestGrafanaDashboard runs every expression of the dashboard against a real
// hub's PromQL API, as Grafana would with the hub as its data source.
func TestGrafanaDashboard(t *testing.T) {
	var d dashboard
	if err := json.Unmarshal([]byte(readFile(t, "deploy/grafana/gpumon-dashboard.json")), &d); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	var exprs []string
	for _, p := range d.Panels {
		for _, target := range p.Targets {
			exprs = append(exprs, target.Expr)
		}
	}
	for _, want := range mustHave {
		if !slices.Contains(exprs, want) {
			t.Errorf("the dashboard lacks a panel with %s", want)
		}
	}
	h := startFleet(t)
	vars := strings.NewReplacer(`$host`, `gpu-a|other`, `$__range`, `1h`, `$__rate_interval`, `1m`, `$__interval`, `15s`)
	for _, expr := range exprs {
		code, body, err := h.Get("/api/v1/query?query=" + url.QueryEscape(vars.Replace(expr)))
		var resp struct {
			Status string `json:"status"`
			Data   struct {
				Result []any `json:"result"`
			} `json:"data"`
		}
		if err != nil || code != 200 || json.Unmarshal(body, &resp) != nil || resp.Status != "success" {
			t.Errorf("%s: status %d, %v: %.300s", expr, code, err, body)
			continue
		}
		if strings.HasPrefix(expr, "DCGM_") && len(resp.Data.Result) != 8 {
			t.Errorf("%s: %d series, want one per GPU of gpu-a (8)", expr, len(resp.Data.Result))
		}
	}
	checkHostVariable(t, d, h.Get)
}

// checkHostVariable resolves the $host variable's label_values() query the
// way Grafana does, through /api/v1/label/<name>/values.
func checkHostVariable(t *testing.T, d dashboard, get func(string) (int, []byte, error)) {
	t.Helper()
	labelValues := regexp.MustCompile(`^label_values\((\w+),\s*(\w+)\)$`)
	for _, v := range d.Templating.List {
		if v.Name != "host" {
			continue
		}
		m := labelValues.FindStringSubmatch(v.Definition)
		if m == nil || m[1] != "DCGM_FI_DEV_GPU_UTIL" || m[2] != "Hostname" {
			t.Fatalf("$host is %q, want label_values(DCGM_FI_DEV_GPU_UTIL, Hostname)", v.Definition)
		}
		code, body, err := get("/api/v1/label/" + m[2] + "/values?match[]=" + url.QueryEscape(m[1]))
		if err != nil || code != 200 || !strings.Contains(string(body), `"gpu-a"`) {
			t.Errorf("label values of Hostname: status %d, %v: %.300s", code, err, body)
		}
		return
	}
	t.Error("the dashboard has no $host variable")
}
