//go:build ecosystem

package ecosystem

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gpumon/gpumon/cli/internal/testfleet"
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
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
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
