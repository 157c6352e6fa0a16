package e2e

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// needDebian makes sure a Debian package is there: as root it installs it
// when have() is false (like make test-go does for prometheus); otherwise the
// test is skipped with the command to run.
func needDebian(t *testing.T, pkg string, have func() bool) {
	t.Helper()
	if have() {
		return
	}
	if os.Geteuid() == 0 {
		if out, err := exec.Command("bash", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "+pkg).CombinedOutput(); err != nil {
			t.Fatalf("apt-get install %s: %v\n%s", pkg, err, out)
		}
		if have() {
			return
		}
	}
	t.Skipf("needs Debian's %s: run 'sudo apt-get install -y %s'", pkg, pkg)
}

// TestWritesTakeOnlyJSON: a web page can send a text/plain or form POST to
// any address without a CORS preflight; with --legacy-open that would let
// any page a lab member opens post reports. Writes take application/json
// only (415 otherwise), which the original collector sends.
func TestWritesTakeOnlyJSON(t *testing.T) {
	restTargets(t, []string{"--legacy-open"}, func(t *testing.T, h *hub, base string) {
		host := "e2e-xsite-gw" // both targets post to one hub
		if base == h.http {
			host = "e2e-xsite-hub"
		}
		report := `{"hostname":"` + host + `"}`
		for _, ct := range []string{"text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "", "application/json; boundary=x", "application/jsonp"} {
			code, v, hdr := callAs(t, http.MethodPost, base+"/api/report-gpu-stats", "", ct, strings.NewReader(report))
			body, _ := v.(map[string]any)
			if code != http.StatusUnsupportedMediaType || body["status"] != "error" || !strings.Contains(body["message"].(string), "application/json") {
				t.Errorf("report as %q: %d %v, want 415 and the error body", ct, code, v)
			}
			if hdr.Get("Content-Type") != "application/json" {
				t.Errorf("415 answer as %q", hdr.Get("Content-Type"))
			}
		}
		code, v, _ := callAs(t, http.MethodPost, base+"/api/kill-processes", adminToken, "text/plain", strings.NewReader(`{"hostname":"x","pids":[5]}`))
		if code != http.StatusUnsupportedMediaType {
			t.Errorf("kill as text/plain: %d %v, want 415", code, v)
		}
		if _, ok := machines(t, base)[host]; ok {
			t.Fatal("a refused post was stored")
		}
		for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8"} {
			if code, v, _ := callAs(t, http.MethodPost, base+"/api/report-gpu-stats", "", ct, strings.NewReader(report)); code != http.StatusOK {
				t.Errorf("report as %q: %d %v, want 200", ct, code, v)
			}
		}
		// The original collector posts with requests.post(json=...).
		needDebian(t, "python3-requests", func() bool { return exec.Command("/usr/bin/python3", "-c", "import requests").Run() == nil })
		py := `import sys, requests
r = requests.post(sys.argv[1] + "/api/report-gpu-stats", json={"hostname": sys.argv[2], "gpu_data": []}, timeout=10)
print(r.status_code, r.text)
sys.exit(0 if r.status_code == 200 else 1)`
		if out, err := exec.Command("/usr/bin/python3", "-c", py, base, host+"-requests").CombinedOutput(); err != nil {
			t.Fatalf("requests.post(json=...): %v: %s", err, out)
		}
		if _, ok := machines(t, base)[host+"-requests"]; !ok {
			t.Error("the collector's post was not stored")
		}
	})
}

// TestHTTPHeaders: API answers say nosniff and carry none of the hub's gRPC
// metadata; the page carries a Content-Security-Policy.
func TestHTTPHeaders(t *testing.T) {
	restTargets(t, []string{"--legacy-open"}, func(t *testing.T, _ *hub, base string) {
		for _, path := range []string{"/api/v1/machines", "/api/gpu-stats", "/api/v1/gpus", "/api/v1/active-alerts", "/api/v1/nope", "/healthz", "/api/v1/openapi.json"} {
			resp, err := http.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("GET %s: no X-Content-Type-Options: nosniff", path)
			}
			for k := range resp.Header {
				if strings.HasPrefix(strings.ToLower(k), "grpc-") {
					t.Errorf("GET %s leaks %s: %v", path, k, resp.Header[k])
				}
			}
		}
	})
	h := newHub(t)
	resp, err := http.Get(h.http + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("page CSP %q lacks %q", csp, want)
		}
	}
	for _, path := range []string{"/metrics", "/api/v1/query", "/api/v1/rules", "/api/v1/alerts"} {
		resp, err := http.Get(h.http + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no X-Content-Type-Options: nosniff", path)
		}
	}
}

// TestEvery405SaysWhatIsAllowed: wrong methods answer 405 with an Allow
// header, /metrics included (it answered PUT and TRACE with 200).
func TestEvery405SaysWhatIsAllowed(t *testing.T) {
	type wrong struct{ method, path, allow string }
	check := func(t *testing.T, base string, tests []wrong) {
		for _, tt := range tests {
			code, v, hdr := call(t, tt.method, base+tt.path, "", nil)
			if code != http.StatusMethodNotAllowed || hdr.Get("Allow") != tt.allow {
				t.Errorf("%s %s: %d Allow %q %v, want 405 Allow %q", tt.method, tt.path, code, hdr.Get("Allow"), v, tt.allow)
			}
		}
	}
	restTargets(t, nil, func(t *testing.T, _ *hub, base string) {
		check(t, base, []wrong{
			{"PUT", "/api/gpu-stats", "GET"},
			{"POST", "/api/gpu-stats", "GET"},
			{"PATCH", "/api/v1/machines", "GET"},
			{"POST", "/api/v1/gpus", "GET"},
			{"DELETE", "/api/v1/active-alerts", "GET"},
			{"POST", "/api/v1/machines/x", "DELETE, GET"},
			{"GET", "/api/kill-processes", "POST"},
			{"DELETE", "/api/v1/openapi.json", "GET, HEAD"},
			{"POST", "/healthz", "GET, HEAD"},
			{"PUT", "/readyz", "GET, HEAD"},
		})
	})
	// The hub's own routes: /metrics, the page, the PromQL API.
	check(t, newHub(t).http, []wrong{
		{"PUT", "/metrics", "GET, HEAD"},
		{"TRACE", "/metrics", "GET, HEAD"},
		{"POST", "/metrics", "GET, HEAD"},
		{"POST", "/", "GET, HEAD"},
		{"DELETE", "/assets/x.js", "GET, HEAD"},
		{"DELETE", "/api/v1/query", "GET, POST"},
		{"PUT", "/api/v1/rules", "GET, POST"},
		{"DELETE", "/api/v1/alerts", "GET, POST"},
	})
}

// TestHealthByServiceName: grpc.health.v1.Health/Check answers for each
// service by name, as probes that name a service ask.
func TestHealthByServiceName(t *testing.T) {
	h := newHub(t)
	client := healthpb.NewHealthClient(dialHub(t, h))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, svc := range []string{"", "gpumon.v1.FleetService", "gpumon.v1.AgentService"} {
		resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health of %q: %v %v, want SERVING", svc, resp.GetStatus(), err)
		}
	}
	if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: "gpumon.v1.Nope"}); status.Code(err) != codes.NotFound {
		t.Errorf("health of an unknown service: %v, want NotFound", err)
	}
}
