package promapi_test

import (
	"encoding/json"
	"maps"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/gpumon/gpumon/common/metricset"
	"github.com/gpumon/gpumon/hub/internal/promapi"
)

func statusServer(t *testing.T) *httptest.Server {
	t.Helper()
	api := &promapi.API{
		Version: "1.2.3", Started: t0, Retention: 15 * 24 * time.Hour, Flags: map[string]string{"query.timeout": "2m"},
		Metadata: func() []metricset.Family {
			return append(metricset.Families(),
				metricset.Family{Name: "gpumon_hub_snapshots_total", Type: metricset.Counter, Help: "Agent snapshots ingested."},
				metricset.Family{Name: metricset.GPUUtil, Type: metricset.Gauge, Help: "GPU utilization (in %)."}, // twice: once
				metricset.Family{Name: metricset.GPUUtil, Type: metricset.Gauge, Help: "another help"},
			)
		},
	}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	return srv
}

type metadataEntry struct{ Type, Help, Unit string }

func TestMetadata(t *testing.T) {
	srv := statusServer(t)
	cases := []struct {
		name  string
		q     url.Values
		check func(t *testing.T, m map[string][]metadataEntry)
	}{
		{"all", nil, func(t *testing.T, m map[string][]metadataEntry) {
			if len(m) != len(metricset.Families())+1 {
				t.Errorf("%d metrics, want every family and the hub's counter", len(m))
			}
			if e := m[metricset.GPUECCCorrected]; len(e) != 1 || e[0].Type != "counter" || e[0].Help == "" {
				t.Errorf("ECC metadata = %+v", e)
			}
			if len(m[metricset.GPUUtil]) != 2 {
				t.Errorf("GPU util metadata = %+v, want the two different entries", m[metricset.GPUUtil])
			}
		}},
		{"one metric", url.Values{"metric": {"gpumon_hub_snapshots_total"}}, func(t *testing.T, m map[string][]metadataEntry) {
			if len(m) != 1 || m["gpumon_hub_snapshots_total"][0] != (metadataEntry{"counter", "Agent snapshots ingested.", ""}) {
				t.Errorf("metadata = %+v", m)
			}
		}},
		{"unknown metric", url.Values{"metric": {"up"}}, func(t *testing.T, m map[string][]metadataEntry) {
			if len(m) != 0 {
				t.Errorf("metadata = %+v", m)
			}
		}},
		{"limit", url.Values{"limit": {"2"}}, func(t *testing.T, m map[string][]metadataEntry) {
			if len(m) != 2 {
				t.Errorf("%d metrics, want 2", len(m))
			}
		}},
		{"limit per metric", url.Values{"limit_per_metric": {"1"}, "metric": {metricset.GPUUtil}}, func(t *testing.T, m map[string][]metadataEntry) {
			if len(m[metricset.GPUUtil]) != 1 {
				t.Errorf("metadata = %+v", m)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, r := get(t, srv, "/api/v1/metadata", tc.q)
			var m map[string][]metadataEntry
			if err := json.Unmarshal(r.Data, &m); code != 200 || r.Status != "success" || err != nil {
				t.Fatalf("%d %+v %v", code, r, err)
			}
			tc.check(t, m)
		})
	}
}

func TestStatusAndFormat(t *testing.T) {
	srv := statusServer(t)
	cases := []struct {
		path string
		q    url.Values
		want string // the data, as JSON
	}{
		{"/api/v1/query_exemplars", url.Values{"query": {"DCGM_FI_DEV_GPU_UTIL"}, "start": {"0"}, "end": {"100"}}, `[]`},
		{"/api/v1/format_query", url.Values{"query": {`sum(rate(x[5m]))by(a)`}}, `"sum by (a) (rate(x[5m]))"`},
		{"/api/v1/status/config", nil, `{"yaml":""}`},
		{"/api/v1/status/flags", nil, `{"query.timeout":"2m"}`},
	}
	for _, tc := range cases {
		code, r := get(t, srv, tc.path, tc.q)
		if code != 200 || r.Status != "success" || string(r.Data) != tc.want {
			t.Errorf("%s %v: %d %s %s, want %s", tc.path, tc.q, code, r.Status, r.Data, tc.want)
		}
	}
	_, r := get(t, srv, "/api/v1/status/buildinfo", nil)
	var build map[string]string
	_ = json.Unmarshal(r.Data, &build)
	if build["version"] != promapi.APIVersion || build["revision"] != "gpumon-hub 1.2.3" || build["goVersion"] == "" {
		t.Errorf("buildinfo = %v", build)
	}
	_, r = get(t, srv, "/api/v1/status/runtimeinfo", nil)
	var info map[string]any
	_ = json.Unmarshal(r.Data, &info)
	keys := slices.Sorted(maps.Keys(info))
	want := []string{"CWD", "GODEBUG", "GOGC", "GOMAXPROCS", "corruptionCount", "goroutineCount", "lastConfigTime",
		"reloadConfigSuccess", "startTime", "storageRetention"}
	if !slices.Equal(keys, want) || info["storageRetention"] != "15d" || info["startTime"] != t0.Format(time.RFC3339) {
		t.Errorf("runtimeinfo = %v", info)
	}
}

// TestStatusErrors: bad parameters are a 400 in Prometheus's error shape.
func TestStatusErrors(t *testing.T) {
	srv := statusServer(t)
	for _, tc := range []struct {
		path string
		q    url.Values
	}{
		{"/api/v1/metadata", url.Values{"limit": {"many"}}},
		{"/api/v1/metadata", url.Values{"limit_per_metric": {"1.5"}}},
		{"/api/v1/query_exemplars", url.Values{"query": {"sum("}}},
		{"/api/v1/query_exemplars", url.Values{"query": {"up"}, "start": {"tomorrow"}}},
		{"/api/v1/query_exemplars", url.Values{"query": {"up"}, "start": {"100"}, "end": {"10"}}},
		{"/api/v1/format_query", url.Values{"query": {"sum("}}},
		{"/api/v1/format_query", nil},
	} {
		code, r := get(t, srv, tc.path, tc.q)
		if code != 400 || r.Status != "error" || r.ErrorType != "bad_data" || r.Error == "" {
			t.Errorf("%s %v: %d %+v, want 400 bad_data", tc.path, tc.q, code, r)
		}
	}
}
