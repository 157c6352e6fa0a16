package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// apiCase is one request sent to both Prometheus and the hub. dynamic names
// the JSON paths whose object keys are data (metric names, flag names,
// label names), where only the values' shapes count.
type apiCase struct {
	name    string
	path    string
	q       url.Values
	dynamic []string
}

// TestPrometheusAPIShapes sends one set of Prometheus API requests to a
// real Prometheus that scrapes the hub and to the hub itself: every answer,
// errors included, must have the same status code and the same shape (keys
// and JSON types; values differ), so Grafana and other Prometheus clients
// read the hub as they read Prometheus.
func TestPrometheusAPIShapes(t *testing.T) {
	bin := promBinary(t)
	h := newHub(t)
	startAgent(t, h, "shape", "dgxh100")
	promAddr := freeAddr(t)
	startPrometheus(t, bin, promAddr, scrapeConfig(map[string]string{"gpumon": strings.TrimPrefix(h.http, "http://")}))
	prom := "http://" + promAddr
	waitFor(t, "20 s of GPU figures and their metadata in Prometheus and the hub", 120*time.Second, func() bool {
		for _, base := range []string{prom, h.http} {
			if len(promQuery(t, base, `DCGM_FI_DEV_GPU_TEMP{Hostname="shape"}`, time.Now().Add(-20*time.Second)).Data.Result) != 8 {
				return false
			}
		}
		_, body := fetch(t, prom+"/api/v1/metadata?metric=DCGM_FI_DEV_GPU_UTIL")
		return strings.Contains(body, "gauge")
	})
	now := time.Now()
	sec := func(d time.Duration) string { return fmt.Sprintf("%.3f", float64(now.Add(d).UnixMilli())/1000) }
	result := []string{"data.result[].metric"}
	cases := []apiCase{
		{"instant vector", "/api/v1/query", url.Values{"query": {`DCGM_FI_DEV_GPU_UTIL{Hostname="shape"}`}, "time": {sec(-5 * time.Second)}}, result},
		{"scalar", "/api/v1/query", url.Values{"query": {`scalar(sum(DCGM_FI_DEV_FB_TOTAL{Hostname="shape"}))`}}, nil},
		{"string", "/api/v1/query", url.Values{"query": {`"gpumon"`}}, nil},
		{"range", "/api/v1/query_range", url.Values{"query": {`avg by (gpu) (DCGM_FI_DEV_GPU_TEMP{Hostname="shape"})`},
			"start": {sec(-20 * time.Second)}, "end": {sec(-5 * time.Second)}, "step": {"2"}}, result},
		{"label names", "/api/v1/labels", url.Values{"match[]": {"DCGM_FI_DEV_GPU_UTIL"}}, nil},
		{"label values", "/api/v1/label/Hostname/values", nil, nil},
		{"series", "/api/v1/series", url.Values{"match[]": {`DCGM_FI_DEV_FB_USED{Hostname="shape"}`}}, []string{"data[]"}},
		{"metadata", "/api/v1/metadata", nil, []string{"data"}},
		{"metadata of one metric", "/api/v1/metadata", url.Values{"metric": {"DCGM_FI_DEV_GPU_UTIL"}}, []string{"data"}},
		{"metadata limited", "/api/v1/metadata", url.Values{"limit": {"1"}}, []string{"data"}},
		{"exemplars", "/api/v1/query_exemplars", url.Values{"query": {"DCGM_FI_DEV_GPU_UTIL"}, "start": {sec(-time.Minute)}, "end": {sec(0)}}, nil},
		{"format", "/api/v1/format_query", url.Values{"query": {`sum(rate(DCGM_FI_DEV_GPU_UTIL[5m]))by(gpu)`}}, nil},
		{"buildinfo", "/api/v1/status/buildinfo", nil, nil},
		{"runtimeinfo", "/api/v1/status/runtimeinfo", nil, nil},
		{"config", "/api/v1/status/config", nil, nil},
		{"flags", "/api/v1/status/flags", nil, []string{"data"}},
		{"parse error", "/api/v1/query", url.Values{"query": {"sum("}}, nil},
		{"bad time", "/api/v1/query", url.Values{"query": {"1"}, "time": {"yesterday"}}, nil},
		{"execution error", "/api/v1/query", url.Values{"query": {`DCGM_FI_DEV_GPU_UTIL + on() DCGM_FI_DEV_GPU_UTIL`}}, nil},
		{"range without step", "/api/v1/query_range", url.Values{"query": {"1"}, "start": {"1"}, "end": {"5"}}, nil},
		{"range backwards", "/api/v1/query_range", url.Values{"query": {"1"}, "start": {"10"}, "end": {"5"}, "step": {"1"}}, nil},
		{"series without match", "/api/v1/series", nil, nil},
		{"series with a bad start", "/api/v1/series", url.Values{"match[]": {"up"}, "start": {"x"}}, nil},
		{"bad label name", "/api/v1/label/%20bad/values", nil, nil},
		{"bad metadata limit", "/api/v1/metadata", url.Values{"limit": {"many"}}, nil},
		{"exemplars of a bad query", "/api/v1/query_exemplars", url.Values{"query": {"sum("}}, nil},
		{"format of a bad query", "/api/v1/format_query", url.Values{"query": {"sum("}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.path
			if tc.q != nil {
				u += "?" + tc.q.Encode()
			}
			theirCode, theirs := fetch(t, prom+u)
			ourCode, ours := fetch(t, h.http+u)
			a, b := jsonShape(t, theirs, tc.dynamic), jsonShape(t, ours, tc.dynamic)
			if theirCode != ourCode || a != b {
				t.Errorf("Prometheus: %d %s\n  shape %s\nhub:        %d %s\n  shape %s", theirCode, clip(theirs), a, ourCode, clip(ours), b)
			}
			// Exemplars are empty on both: the hub keeps none, and
			// Prometheus gets none from the text format.
			if tc.name != "exemplars" && (strings.Contains(a, `"data":"[]"`) || strings.Contains(a, `"result":"[]"`)) {
				t.Errorf("Prometheus answered no data, so the shapes say little: %s", clip(theirs))
			}
		})
	}
}

// scrapeConfig is a Prometheus configuration that scrapes every job's
// target (job name → host:port) each second.
func scrapeConfig(jobs map[string]string) string {
	cfg := "global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n"
	for _, job := range slices.Sorted(maps.Keys(jobs)) {
		cfg += fmt.Sprintf("  - job_name: %s\n    static_configs: [{targets: [%q]}]\n", job, jobs[job])
	}
	return cfg
}

// fetch GETs a URL; a connection error is status 0.
func fetch(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// jsonShape describes a JSON answer by its keys and value types. Objects at
// dynamic paths count by the shapes of their values, arrays by the distinct
// shapes of their elements; warnings and infos are left out.
func jsonShape(t *testing.T, body string, dynamic []string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		return "not JSON: " + clip(body)
	}
	if m, ok := v.(map[string]any); ok {
		delete(m, "warnings")
		delete(m, "infos")
	}
	out, _ := json.Marshal(shapeOf(v, "", dynamic))
	return string(out)
}

func shapeOf(v any, path string, dynamic []string) any {
	switch x := v.(type) {
	case map[string]any:
		if slices.Contains(dynamic, path) {
			return map[string]any{"*": distinct(x, path+".*", dynamic)}
		}
		out := map[string]any{}
		for k, e := range x {
			out[k] = shapeOf(e, strings.TrimPrefix(path+"."+k, "."), dynamic)
		}
		return out
	case []any:
		if len(x) == 0 {
			return "[]"
		}
		m := make(map[string]any, len(x))
		for i, e := range x {
			m[fmt.Sprint(i)] = e
		}
		return distinct(m, path+"[]", dynamic)
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	}
	return "null"
}

// distinct lists the different shapes of a collection's elements.
func distinct(elems map[string]any, path string, dynamic []string) []string {
	var out []string
	for _, e := range elems {
		b, _ := json.Marshal(shapeOf(e, path, dynamic))
		if !slices.Contains(out, string(b)) {
			out = append(out, string(b))
		}
	}
	slices.Sort(out)
	return out
}

func clip(s string) string {
	if len(s) > 400 {
		return s[:400] + "..."
	}
	return s
}
