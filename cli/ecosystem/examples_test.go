//go:build ecosystem

package ecosystem

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gpumon/gpumon/cli/internal/testfleet"
	"github.com/gpumon/gpumon/common/testproc"
	"github.com/gpumon/gpumon/gen/openapi"
)

const python = "/usr/bin/python3"

// pythonPackages are what the Python example needs from Debian.
const pythonPackages = "protobuf-compiler protobuf-compiler-grpc libprotobuf-dev python3-grpcio python3-protobuf"

// TestPythonExample generates the stubs with Debian's protoc 3.21 and
// grpc_python_plugin and runs fleet.py against a real hub: the table, then
// --follow N events. The stubs keep proto3 optional: HasField tells a
// machine with no GPU temperature (shown as "-") from one with a value.
func TestPythonExample(t *testing.T) {
	need(t, pythonPackages, "sh", "-c", "command -v protoc && test -x /usr/bin/grpc_python_plugin && "+
		"test -f /usr/include/google/protobuf/timestamp.proto && "+python+" -c 'import grpc, google.protobuf'")
	stubs := t.TempDir()
	gen := exec.Command(filepath.Join(root, "examples/python/generate.sh"), stubs)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("generate.sh: %v\n%s", err, out)
	}
	presence := exec.Command(python, "-c", `from gpumon.v1 import fleet_pb2
m = fleet_pb2.MachineSummary()
absent = m.HasField("max_temperature")
m.max_temperature = 0
print(absent, m.HasField("max_temperature"))`)
	presence.Env = append(os.Environ(), "PYTHONPATH="+stubs)
	if out, code := run(t, presence); code != 0 || strings.TrimSpace(out) != "False True" {
		t.Fatalf("HasField on an optional field: exit %d: %s (want \"False True\")", code, out)
	}

	h := startFleet(t)
	coolBox := `{"hostname":"cool-box","gpu_data":[{"id":0,"name":"NVIDIA T4","temperature":null,"memory_used":0,"memory_total":15360,"utilization":null,"processes":[]}]}`
	req, _ := http.NewRequest(http.MethodPost, h.URL()+"/api/report-gpu-stats", strings.NewReader(coolBox))
	req.Header.Set("Authorization", "Bearer "+testfleet.AgentToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST a report without temperatures: %d", resp.StatusCode)
	}
	fleetPy := func(args ...string) (string, int) {
		cmd := exec.Command(python, append([]string{filepath.Join(root, "examples/python/fleet.py")}, args...)...)
		cmd.Env = append(os.Environ(), "GPUMON_PY_STUBS="+stubs, "GPUMON_TOKEN=")
		return run(t, cmd)
	}
	out, code := fleetPy("--hub", h.GRPC, "--token", testfleet.APIToken, "--follow", "3")
	if code != 0 {
		t.Fatalf("fleet.py --follow 3: exit %d\n%s", code, out)
	}
	if !regexp.MustCompile(`(?m)^gpu-a\s+online\s+\d+/8 .* \d+C$`).MatchString(out) || !strings.Contains(out, "2 machines (2 online)") {
		t.Errorf("fleet.py should list gpu-a online with 8 GPUs and its hottest GPU:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^cool-box\s+online\s+0/1 .*%\s+-$`).MatchString(out) {
		t.Errorf("fleet.py should list cool-box with no temperature (\"-\", not 0C):\n%s", out)
	}
	events := regexp.MustCompile(`(?m)^\S+Z (initial|sample|status)\s+\S+ online=true`).FindAllString(out, -1)
	if len(events) != 3 {
		t.Errorf("fleet.py --follow 3 printed %d events, want 3:\n%s", len(events), out)
	}
	if out, code := fleetPy("--hub", h.GRPC, "--token", "wrong-token-0001"); code != 1 || !strings.Contains(out, "UNAUTHENTICATED") {
		t.Errorf("fleet.py with a wrong token: exit %d, want 1 saying UNAUTHENTICATED:\n%s", code, out)
	}
	if out, code := fleetPy("--hub", testproc.FreeAddr(t)); code != 3 {
		t.Errorf("fleet.py against no hub: exit %d, want 3:\n%s", code, out)
	}
}

// curlLine is one documented command: `curl ...   # 200`.
var curlLine = regexp.MustCompile(`(?m)^(curl .*\S)\s+#\s*(\d{3})\s*$`)

// TestCurlDoc runs every command of examples/curl.md, in order, against a
// real hub and checks the documented status.
func TestCurlDoc(t *testing.T) {
	doc := readFile(t, "examples/curl.md")
	cmds := curlLine.FindAllStringSubmatch(doc, -1)
	if n := strings.Count(doc, "\ncurl "); n != len(cmds) || n == 0 {
		t.Fatalf("%d curl lines but %d with a documented status (end each with '# CODE')", n, len(cmds))
	}
	checkCoverage(t, doc)
	h := startFleet(t)
	body := filepath.Join(t.TempDir(), "body")
	env := append(os.Environ(), "HUB="+h.URL(), "TOKEN="+testfleet.APIToken, "ADMIN_TOKEN="+testfleet.AdminToken,
		"AGENT_TOKEN="+testfleet.AgentToken, "HOST=gpu-a", "OLD_HOST=old-box", "BODY="+body)
	for _, c := range cmds {
		line, want := c[1], c[2]
		if strings.Contains(line, "DELETE") && strings.Contains(line, "$OLD_HOST") {
			waitOffline(t, h, "old-box")
		}
		cmd := exec.Command("bash", "-c", `curl -o "$BODY" -w '%{http_code}' `+strings.TrimPrefix(line, "curl "))
		cmd.Env = env
		out, err := cmd.Output()
		exitOK := err == nil
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 28 && strings.Contains(line, "--max-time") {
			exitOK = true // a stream stopped by --max-time
		}
		got, _ := os.ReadFile(body)
		if !exitOK || string(out) != want {
			t.Errorf("%s\n  status %s (curl: %v), documented %s; body: %.300s", line, out, err, want, got)
		}
		if want[0] != '2' && !strings.Contains(string(got), `"status":"error"`) {
			t.Errorf("%s\n  error body lacks the documented {\"status\":\"error\"}: %.300s", line, got)
		}
	}
}

// checkCoverage fails when a route of the OpenAPI document, or another HTTP
// route of the hub, has no command in the doc.
func checkCoverage(t *testing.T, doc string) {
	t.Helper()
	var spec struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(openapi.JSON, &spec); err != nil {
		t.Fatal(err)
	}
	lines := curlLine.FindAllString(doc, -1)
	for path, methods := range spec.Paths {
		re := regexp.MustCompile(regexp.QuoteMeta(`$HUB`+path) + `["?]`)
		re = regexp.MustCompile(strings.NewReplacer(`\{machine\}`, `\$[A-Z_]+`).Replace(re.String()))
		for method := range methods {
			if !covered(lines, re, strings.ToUpper(method)) {
				t.Errorf("examples/curl.md has no %s %s", strings.ToUpper(method), path)
			}
		}
	}
	for _, path := range []string{"/metrics", "/api/v1/query", "/api/v1/query_range", "/api/v1/labels",
		"/api/v1/series", "/api/v1/label/Hostname/values", "/api/v1/rules", "/api/v1/alerts", "/healthz", "/readyz", "/api/v1/openapi.json"} {
		if !covered(lines, regexp.MustCompile(regexp.QuoteMeta(`$HUB`+path)+`["?]`), "GET") {
			t.Errorf("examples/curl.md has no GET %s", path)
		}
	}
}

func covered(lines []string, path *regexp.Regexp, method string) bool {
	for _, l := range lines {
		m := "GET"
		if strings.Contains(l, " -X ") {
			m = strings.Fields(l[strings.Index(l, " -X ")+4:])[0]
		} else if strings.Contains(l, " -d ") && !strings.Contains(l, " -G ") {
			m = "POST"
		}
		if m == method && path.MatchString(l) && (m != "GET" || strings.Contains(l, "# 200")) {
			return true
		}
	}
	return false
}

func waitOffline(t *testing.T, h *testfleet.Hub, machine string) {
	t.Helper()
	testproc.WaitFor(t, machine+" to go offline", 30*time.Second, func() bool {
		code, body, err := h.Get("/api/v1/machines/" + machine)
		return err == nil && code == 200 && strings.Contains(string(body), `"online":false`)
	})
}
