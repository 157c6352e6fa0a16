package promapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
	"github.com/gpumon/gpumon/hub/internal/history"
	"github.com/gpumon/gpumon/hub/internal/promapi"
)

var t0 = time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)

func setup(t *testing.T) *httptest.Server {
	t.Helper()
	s, err := history.Open(t.TempDir(), history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f := fleet.New(nil)
	m, _ := f.Attach(fleet.Hello{Hello: &gpumonv1.Hello{Hostname: "gpu-a", MachineId: "a", Epoch: 1}, Conn: fleet.NewAgentConn(false)})
	// GPU 3 at 10, 20, 30, ... every 30 s for 5 minutes.
	for i := range 10 {
		s.Record(m, &gpumonv1.Report{Timestamp: timestamppb.New(t0.Add(time.Duration(i) * 30 * time.Second)), GpuData: []*gpumonv1.Gpu{
			{Id: 3, Uuid: "GPU-3", Name: "H100", Utilization: proto.Uint32(uint32(10 * (i + 1))), MemoryTotal: 80000},
		}}, uint64(i+1))
	}
	api := &promapi.API{Engine: s.Engine(), Queryable: s.Queryable(), Now: func() time.Time { return t0.Add(5 * time.Minute) }}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	return srv
}

type result struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      json.RawMessage
}

func get(t *testing.T, srv *httptest.Server, path string, q url.Values) (int, result) {
	t.Helper()
	resp, err := http.Get(srv.URL + path + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r result
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, r
}

func TestAvgOverTimeInstant(t *testing.T) {
	srv := setup(t)
	end := t0.Add(4*time.Minute + 30*time.Second) // last sample
	code, r := get(t, srv, "/api/v1/query", url.Values{
		"query": {`avg_over_time(DCGM_FI_DEV_GPU_UTIL{Hostname="gpu-a",gpu="3"}[5m])`},
		"time":  {fmt.Sprint(end.Unix())},
	})
	if code != 200 || r.Status != "success" {
		t.Fatalf("%d %+v", code, r)
	}
	var data struct {
		ResultType string
		Result     []struct {
			Metric map[string]string
			Value  [2]any
		}
	}
	if err := json.Unmarshal(r.Data, &data); err != nil {
		t.Fatal(err)
	}
	// The 5 m window ending at the last sample holds all 10: mean of 10..100.
	if data.ResultType != "vector" || len(data.Result) != 1 || data.Result[0].Value[1] != "55" {
		t.Fatalf("result = %+v, want one sample with value \"55\"", data)
	}
	if m := data.Result[0].Metric; m["UUID"] != "GPU-3" || m["modelName"] != "H100" || m["machine"] != "gpu-a" {
		t.Errorf("labels = %v", m)
	}
}

func TestQueryRange(t *testing.T) {
	srv := setup(t)
	code, r := get(t, srv, "/api/v1/query_range", url.Values{
		"query": {`DCGM_FI_DEV_GPU_UTIL`}, "start": {t0.Format(time.RFC3339)},
		"end": {fmt.Sprint(t0.Add(90 * time.Second).Unix())}, "step": {"30s"},
	})
	var data struct {
		ResultType string
		Result     []struct{ Values [][2]any }
	}
	_ = json.Unmarshal(r.Data, &data)
	if code != 200 || data.ResultType != "matrix" || len(data.Result) != 1 {
		t.Fatalf("%d %+v %s", code, r, r.Data)
	}
	var got []string
	for _, v := range data.Result[0].Values {
		got = append(got, v[1].(string))
	}
	if !slices.Equal(got, []string{"10", "20", "30", "40"}) {
		t.Errorf("values = %v", got)
	}
}

func TestLabelsAndSeries(t *testing.T) {
	srv := setup(t)
	_, r := get(t, srv, "/api/v1/labels", nil)
	var names []string
	_ = json.Unmarshal(r.Data, &names)
	for _, want := range []string{"Hostname", "UUID", "__name__", "gpu", "machine", "modelName"} {
		if !slices.Contains(names, want) {
			t.Errorf("labels %v lack %q", names, want)
		}
	}
	_, r = get(t, srv, "/api/v1/label/__name__/values", nil)
	var metrics []string
	_ = json.Unmarshal(r.Data, &metrics)
	if !slices.Contains(metrics, "DCGM_FI_DEV_GPU_UTIL") || !slices.Contains(metrics, "DCGM_FI_DEV_FB_USED") {
		t.Errorf("metric names = %v", metrics)
	}
	_, r = get(t, srv, "/api/v1/series", url.Values{"match[]": {`DCGM_FI_DEV_GPU_UTIL`}})
	var series []map[string]string
	_ = json.Unmarshal(r.Data, &series)
	if len(series) != 1 || series[0]["gpu"] != "3" {
		t.Errorf("series = %v", series)
	}
}

func TestErrors(t *testing.T) {
	srv := setup(t)
	for _, tt := range []struct {
		path string
		q    url.Values
		code int
	}{
		{"/api/v1/query", url.Values{"query": {"sum("}}, 400},
		{"/api/v1/query", url.Values{"query": {"up"}, "time": {"yesterday"}}, 400},
		{"/api/v1/query_range", url.Values{"query": {"up"}, "start": {"10"}, "end": {"5"}, "step": {"1"}}, 400},
		{"/api/v1/query_range", url.Values{"query": {"up"}, "start": {"0"}, "end": {"100000"}, "step": {"1"}}, 400},
		{"/api/v1/series", nil, 400},
		{"/api/v1/label/%ff/values", nil, 400},
	} {
		code, r := get(t, srv, tt.path, tt.q)
		if code != tt.code || r.Status != "error" || r.Error == "" || r.ErrorType == "" {
			t.Errorf("%s %v: %d %+v, want %d with a Prometheus error body", tt.path, tt.q, code, r, tt.code)
		}
	}
}
