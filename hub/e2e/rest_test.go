package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gpumon/gpumon/common/jsontest"
)

// restTargets runs fn against the hub's own REST port and against a
// gpumon-gateway process in front of the same hub.
func restTargets(t *testing.T, hubArgs []string, fn func(t *testing.T, h *hub, base string)) {
	h := newHub(t, hubArgs...)
	gw := startGateway(t, h)
	t.Run("hub", func(t *testing.T) { fn(t, h, h.http) })
	t.Run("gateway", func(t *testing.T) { fn(t, h, gw) })
}

// startGateway runs gpumon-gateway in front of h and returns its base URL.
func startGateway(t *testing.T, h *hub) string {
	t.Helper()
	gwAddr := freeAddr(t)
	start(t, "gpumon-gateway", "--hub", h.grpc, "--http-addr", gwAddr)
	gw := "http://" + gwAddr
	waitFor(t, "gateway ready", 15*time.Second, func() bool {
		resp, err := http.Get(gw + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return gw
}

func TestLegacyCollectorPost(t *testing.T) {
	restTargets(t, []string{"--legacy-open"}, func(t *testing.T, _ *hub, base string) {
		body, err := os.ReadFile("../../common/wirejson/testdata/python_collector.json")
		if err != nil {
			t.Fatal(err)
		}
		// Sent now, as the collector does (a time from days ago would be
		// recorded at the receive time): Python's isoformat(), no zone.
		sent := time.Now().Truncate(time.Microsecond)
		body = bytes.Replace(body, []byte(`"2026-11-29T02:07:37.542655"`), []byte(`"`+sent.Format("2006-01-02T15:04:05.000000")+`"`), 1)
		code, v, hdr := call(t, http.MethodPost, base+"/api/report-gpu-stats", "", bytes.NewReader(body))
		if code != http.StatusOK || hdr.Get("Content-Type") != "application/json" {
			t.Fatalf("POST: %d %v (%s)", code, v, hdr.Get("Content-Type"))
		}
		jsontest.AssertSubset(t, jsontest.Decode(t, []byte(`{"status":"success","message":"Data received"}`)), v)

		m := machines(t, base)["lab-gpu-03"].(map[string]any)
		want := jsontest.Decode(t, []byte(`{
			"hostname": "lab-gpu-03", "is_online": true,
			"gpu_data": [
				{"id": 0, "temperature": 45, "memory_used": 20480, "memory_total": 24564, "utilization": 88},
				{"id": 1, "temperature": null, "utilization": null, "processes": []}],
			"system_info": {"memory_total": 134987833344, "ip_address": "192.168.1.23",
				"screen_sessions": [{"pid": "4411", "name": "train.v2", "status": "Detached"}],
				"docker_containers": [{"id": "a1b2c3d4e5f6", "gpuDevices": "[0,1]", "memoryUsage": 1073741824}]}
		}`))
		jsontest.AssertSubset(t, want, m)
		ts, _ := m["timestamp"].(string)
		if got, err := time.Parse(time.RFC3339Nano, ts); err != nil || !got.Equal(sent) {
			t.Errorf("timestamp %q is not RFC 3339 with a zone, read in the hub's zone (sent %s)", ts, sent)
		}
		cmd := m["gpu_data"].([]any)[0].(map[string]any)["processes"].([]any)[0].(map[string]any)["cmdline"]
		if cmd != "python3 train.py --name 实验-v2" {
			t.Errorf("cmdline = %q", cmd)
		}
	})
}

func TestErrorBodies(t *testing.T) {
	restTargets(t, nil, func(t *testing.T, h *hub, base string) {
		big := bytes.Repeat([]byte("x"), 100<<20)
		tests := []struct {
			name, method, path, token string
			body                      io.Reader
			code                      int
			msg                       string
		}{
			{"unknown route", "GET", "/api/nope", "", nil, 404, "no such route"},
			{"unknown machine", "GET", "/api/v1/machines/nope", "", nil, 404, "no machine"},
			{"wrong method", "DELETE", "/api/gpu-stats", "", nil, 405, "not allowed"},
			{"post without token", "POST", "/api/report-gpu-stats", "", strings.NewReader(`{"hostname":"x"}`), 401, "token"},
			{"post with wrong token", "POST", "/api/report-gpu-stats", "wrong-token-123", strings.NewReader(`{"hostname":"x"}`), 401, "invalid token"},
			{"not JSON", "POST", "/api/report-gpu-stats", agentToken, strings.NewReader(`hostname=x`), 400, "not valid JSON"},
			{"JSON array", "POST", "/api/report-gpu-stats", agentToken, strings.NewReader(`[{"hostname":"x"}]`), 400, "JSON object"},
			{"numeric hostname", "POST", "/api/report-gpu-stats", agentToken, strings.NewReader(`{"hostname": 42}`), 400, "hostname"},
			{"empty hostname", "POST", "/api/report-gpu-stats", agentToken, strings.NewReader(`{"hostname": ""}`), 400, "hostname"},
			{"hostname with spaces", "POST", "/api/report-gpu-stats", agentToken, strings.NewReader(`{"hostname": "a b"}`), 400, "hostname"},
			{"empty body", "POST", "/api/report-gpu-stats", agentToken, strings.NewReader(``), 400, "empty"},
			{"100 MB body", "POST", "/api/report-gpu-stats", agentToken, bytes.NewReader(big), 413, "too large"},
			{"kill without token", "POST", "/api/kill-processes", "", strings.NewReader(`{"hostname":"x","pids":[5]}`), 401, "token"},
			{"kill with agent token", "POST", "/api/kill-processes", agentToken, strings.NewReader(`{"hostname":"x","pids":[5]}`), 403, "admin token"},
			{"kill unknown machine", "POST", "/api/kill-processes", adminToken, strings.NewReader(`{"hostname":"x","pids":[5]}`), 404, "no machine"},
			{"kill without pids", "POST", "/api/kill-processes", adminToken, strings.NewReader(`{"hostname":"x","pids":[]}`), 400, "pids"},
			{"kill of 1,001 pids", "POST", "/api/kill-processes", adminToken, strings.NewReader(`{"hostname":"x","pids":[` + strings.Repeat("5,", 1000) + `5]}`), 400, "at most 1000 pids"},
			{"forget with agent token", "DELETE", "/api/v1/machines/x", agentToken, nil, 403, "admin token"},
			{"forget unknown machine", "DELETE", "/api/v1/machines/x", adminToken, nil, 404, "no machine"},
			{"bad query value", "GET", "/api/v1/free-gpus?max_utilization=500", "", nil, 400, "percentage"},
			{"free memory share over 100 %", "GET", "/api/v1/free-gpus?min_free_percent=101", "", nil, 400, "min_free_percent"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code, v, hdr := call(t, tt.method, base+tt.path, tt.token, tt.body)
				body, _ := v.(map[string]any)
				if code != tt.code || body["status"] != "error" || !strings.Contains(strings.ToLower(body["message"].(string)), strings.ToLower(tt.msg)) {
					t.Errorf("%s %s: %d %v; want %d and an error body mentioning %q", tt.method, tt.path, code, v, tt.code, tt.msg)
				}
				if len(body) != 2 {
					t.Errorf("error body has keys %v, want exactly status and message", body)
				}
				if ct := hdr.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q", ct)
				}
			})
		}
		// Nothing of the refused posts was stored, and the hub still answers.
		if n := len(machines(t, base)); n != 0 {
			t.Errorf("%d machines stored from refused posts", n)
		}
		if h.exited() {
			t.Fatal("the hub exited")
		}
	})
}

func TestCORSAndGzip(t *testing.T) {
	restTargets(t, []string{"--legacy-open"}, func(t *testing.T, _ *hub, base string) {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/gpu-stats", nil)
		req.Header.Set("Origin", "http://old-page.example:3000")
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "http://old-page.example:3000" {
			t.Errorf("GET from another origin: Access-Control-Allow-Origin %q", got)
		}
		if got := resp.Header.Get("Content-Encoding"); got != "gzip" {
			t.Errorf("Content-Encoding %q, want gzip", got)
		}

		pre, _ := http.NewRequest(http.MethodOptions, base+"/api/kill-processes", nil)
		pre.Header.Set("Origin", "http://evil.example")
		pre.Header.Set("Access-Control-Request-Method", "POST")
		resp, err = http.DefaultClient.Do(pre)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || body["status"] != "error" || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight POST from a disallowed origin: %d %v %v", resp.StatusCode, body, resp.Header)
		}
	})
}
