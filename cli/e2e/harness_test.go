// Package e2e runs the gpumon CLI as a process against a real hub with
// simulated agents, all built from this checkout.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpumon/gpumon/cli/internal/testfleet"
	"github.com/gpumon/gpumon/common/testproc"
)

const (
	apiToken   = testfleet.APIToken
	adminToken = testfleet.AdminToken
	version    = "9.8.7-test"
)

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gpumon-cli-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	err = testproc.Build(dir, "", testproc.Packages()[:2]...)
	if err == nil {
		err = testproc.Build(dir, "-X main.version="+version+" -X main.commit=abc1234 -X main.date=2026-01-02T03:04:05Z",
			"github.com/gpumon/gpumon/cli/cmd/gpumon")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var freeAddr = testproc.FreeAddr

// fleet is a hub with two simulated agents: gpu-a (8 H100, kills allowed)
// and gpu-b (4 RTX 4090).
type fleet struct {
	*testfleet.Hub
	grpc string
}

func startFleet(t *testing.T) *fleet {
	t.Helper()
	h := testfleet.StartHub(t, binDir)
	f := &fleet{Hub: h, grpc: h.GRPC}
	// The kill test stops a sleep, which uses no GPU.
	h.StartAgent(t, "gpu-a", "dgxh100", "--allow-kill", "--allow-kill-non-gpu")
	h.StartAgent(t, "gpu-b", "rtx4090x4")
	waitFor(t, "both agents online", func() bool {
		r := f.gpumon(t, nil, "ls", "--json", "--online")
		var out struct{ Machines []any }
		return r.code == 0 && json.Unmarshal([]byte(r.stdout), &out) == nil && len(out.Machines) == 2
	})
	return f
}

// waitFor polls cond and fails the test after 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testproc.WaitFor(t, what, 30*time.Second, cond)
}

type result struct {
	stdout, stderr string
	code           int
}

// gpumon runs the CLI against the fleet with the API token in the environment.
func (f *fleet) gpumon(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return run(t, append([]string{"GPUMON_HUB=" + f.grpc, "GPUMON_TOKEN=" + apiToken}, env...), args...)
}

// run runs the CLI with a clean environment plus env.
func run(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "gpumon"), args...)
	cmd.Env = append([]string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run gpumon: %v", err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// decode parses --json output into v, failing the test on a bad shape.
func decode(t *testing.T, r result, v any) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d, stderr: %s", r.code, r.stderr)
	}
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, r.stdout)
	}
}

// wantKeys fails unless obj has exactly these keys (the documented shape).
func wantKeys(t *testing.T, what string, obj map[string]any, keys ...string) {
	t.Helper()
	var got []string
	for k := range obj {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(keys)
	if !slices.Equal(got, keys) {
		t.Errorf("%s keys = %v, want %v", what, got, keys)
	}
}

// checkWidth fails when a line of human output is wider than 80 columns.
func checkWidth(t *testing.T, out string) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if n := len([]rune(line)); n > 80 {
			t.Errorf("line of %d columns (want at most 80): %q", n, line)
		}
	}
}
