//go:build ecosystem

package ecosystem

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gpumon/gpumon/cli/internal/testfleet"
	"github.com/gpumon/gpumon/gen/openapi"
)

const python = "/usr/bin/python3"

// TestPythonExample generates the stubs with Debian's grpc_tools and runs
// fleet.py against a real hub: the table, then --follow N events.
func TestPythonExample(t *testing.T) {
	need(t, "python3-grpc-tools python3-grpcio", python, "-c", "import grpc, grpc_tools.protoc")
	stubs := t.TempDir()
	gen := exec.Command(filepath.Join(root, "examples/python/generate.sh"), stubs)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("generate.sh: %v\n%s", err, out)
	}
	h := startFleet(t)
	fleetPy := func(args ...string) (string, int) {
		cmd := exec.Command(python, append([]string{filepath.Join(root, "examples/python/fleet.py")}, args...)...)
		cmd.Env = append(os.Environ(), "GPUMON_PY_STUBS="+stubs, "GPUMON_TOKEN=")
		return run(t, cmd)
	}
	out, code := fleetPy("--hub", h.GRPC, "--token", testfleet.APIToken, "--follow", "3")
	if code != 0 {
		t.Fatalf("fleet.py --follow 3: exit %d\n%s", code, out)
	}
	if !regexp.MustCompile(`(?m)^gpu-a\s+online\s+\d+/8 `).MatchString(out) || !strings.Contains(out, "1 machines (1 online)") {
		t.Errorf("fleet.py should list gpu-a online with 8 GPUs:\n%s", out)
	}
	events := regexp.MustCompile(`(?m)^\S+Z (initial|sample|status)\s+gpu-a online=true`).FindAllString(out, -1)
	if len(events) != 3 {
		t.Errorf("fleet.py --follow 3 printed %d events, want 3:\n%s", len(events), out)
	}
	if out, code := fleetPy("--hub", h.GRPC, "--token", "wrong-token-0001"); code != 1 || !strings.Contains(out, "UNAUTHENTICATED") {
		t.Errorf("fleet.py with a wrong token: exit %d, want 1 saying UNAUTHENTICATED:\n%s", code, out)
	}
	if out, code := fleetPy("--hub", testfleet.FreeAddr(t)); code != 3 {
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
		"/api/v1/series", "/api/v1/label/Hostname/values", "/healthz", "/readyz", "/api/v1/openapi.json"} {
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
	testfleet.WaitFor(t, machine+" to go offline", func() bool {
		code, body, err := h.Get("/api/v1/machines/" + machine)
		return err == nil && code == 200 && strings.Contains(string(body), `"online":false`)
	})
}
