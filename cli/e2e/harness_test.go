// Package e2e runs the gpumon CLI as a process against a real hub with
// simulated agents, all built from this checkout.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	agentToken = "agent-token-cli-0001"
	apiToken   = "api-token-cli-0001"
	adminToken = "admin-token-cli-0001"
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
	builds := [][]string{
		{"build", "-o", dir + "/", "github.com/gpumon/gpumon/hub/cmd/gpumon-hub", "github.com/gpumon/gpumon/agent/cmd/gpumon-agent"},
		{"build", "-o", dir + "/", "-ldflags", "-X main.version=" + version + " -X main.commit=abc1234 -X main.date=2026-01-02T03:04:05Z",
			"github.com/gpumon/gpumon/cli/cmd/gpumon"},
	}
	for _, args := range builds {
		cmd := exec.Command("go", args...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build binaries:", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a background binary whose output is shown when a test fails.
type proc struct {
	cmd  *exec.Cmd
	out  *bytes.Buffer
	mu   sync.Mutex
	done chan struct{}
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(filepath.Join(binDir, name), args...), out: &bytes.Buffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			p.mu.Lock()
			t.Logf("output of %s:\n%s", name, p.out.String())
			p.mu.Unlock()
		}
	})
	return p
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// fleet is a hub with two simulated agents: gpu-a (8 H100, kills allowed)
// and gpu-b (4 RTX 4090).
type fleet struct {
	http, grpc string
}

func startFleet(t *testing.T) *fleet {
	t.Helper()
	f := &fleet{http: freeAddr(t), grpc: freeAddr(t)}
	start(t, "gpumon-hub", "--data-dir", t.TempDir(), "--http-addr", f.http, "--grpc-addr", f.grpc,
		"--agent-token", agentToken, "--api-token", apiToken, "--admin-token", adminToken)
	waitFor(t, "hub /healthz", func() bool {
		resp, err := http.Get("http://" + f.http + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	})
	common := []string{"--hub", f.grpc, "--token", agentToken, "--interval", "1s"}
	start(t, "gpumon-agent", append(common, "--hostname", "gpu-a", "--simulate", "dgxh100", "--allow-kill")...)
	start(t, "gpumon-agent", append(common, "--hostname", "gpu-b", "--simulate", "rtx4090x4")...)
	waitFor(t, "both agents online", func() bool {
		r := f.gpumon(t, nil, "ls", "--json", "--online")
		var out struct{ Machines []any }
		return r.code == 0 && json.Unmarshal([]byte(r.stdout), &out) == nil && len(out.Machines) == 2
	})
	return f
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
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
