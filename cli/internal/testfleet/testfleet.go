// Package testfleet builds gpumon's binaries from this checkout and runs real
// hubs and simulated agents as processes for end-to-end tests.
package testfleet

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// Tokens of every hub Start runs.
const (
	AgentToken = "agent-token-test-0001"
	APIToken   = "api-token-test-0001"
	AdminToken = "admin-token-test-0001"
)

// Packages are the main packages Build builds.
var Packages = []string{
	"github.com/gpumon/gpumon/hub/cmd/gpumon-hub",
	"github.com/gpumon/gpumon/agent/cmd/gpumon-agent",
	"github.com/gpumon/gpumon/agent/cmd/gpumon-loadgen",
	"github.com/gpumon/gpumon/gateway/cmd/gpumon-gateway",
	"github.com/gpumon/gpumon/cli/cmd/gpumon",
}

// Build builds pkgs into dir with ldflags (may be empty).
func Build(dir, ldflags string, pkgs ...string) error {
	args := []string{"build", "-o", dir + string(os.PathSeparator)}
	if ldflags != "" {
		args = append(args, "-ldflags", ldflags)
	}
	cmd := exec.Command("go", append(args, pkgs...)...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %v: %w", pkgs, err)
	}
	return nil
}

// Proc is a background process whose output is logged when the test fails.
type Proc struct {
	Cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

func (p *Proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

// Output is what the process printed so far.
func (p *Proc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// Start runs path with args until the test ends.
func Start(t *testing.T, path string, args ...string) *Proc {
	t.Helper()
	if filepath.Base(path) == "gpumon-agent" && !slices.Contains(args, "--state-dir") {
		// Its own machine secret, not the machine-wide state directory.
		args = append(args, "--state-dir", t.TempDir())
	}
	p := &Proc{Cmd: exec.Command(path, args...), done: make(chan struct{})}
	p.Cmd.Stdout, p.Cmd.Stderr = p, p
	if err := p.Cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	go func() { _ = p.Cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.Cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("output of %s:\n%s", filepath.Base(path), p.Output())
		}
	})
	return p
}

// FreeAddr is a loopback address no one listens on right now.
func FreeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Hub is a running gpumon-hub.
type Hub struct {
	HTTP, GRPC, DataDir string
	Bin                 string // directory of the binaries
	Proc                *Proc
}

// URL is the hub's HTTP base URL.
func (h *Hub) URL() string { return "http://" + h.HTTP }

// StartHub runs a hub from binDir with the package's tokens plus extra flags
// and waits until /healthz answers.
func StartHub(t *testing.T, binDir string, extra ...string) *Hub {
	t.Helper()
	h := &Hub{HTTP: FreeAddr(t), GRPC: FreeAddr(t), DataDir: t.TempDir(), Bin: binDir}
	args := append([]string{"--data-dir", h.DataDir, "--http-addr", h.HTTP, "--grpc-addr", h.GRPC,
		"--agent-token", AgentToken, "--api-token", APIToken, "--admin-token", AdminToken}, extra...)
	h.Proc = Start(t, filepath.Join(binDir, "gpumon-hub"), args...)
	WaitFor(t, "hub /healthz", func() bool {
		resp, err := http.Get(h.URL() + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	})
	return h
}

// StartAgent runs a simulated agent (interval 1 s) that reports as hostname.
func (h *Hub) StartAgent(t *testing.T, hostname, profile string, extra ...string) *Proc {
	t.Helper()
	args := append([]string{"--hub", h.GRPC, "--token", AgentToken, "--hostname", hostname,
		"--simulate", profile, "--interval", "1s"}, extra...)
	return Start(t, filepath.Join(h.Bin, "gpumon-agent"), args...)
}

// Get fetches path with the API token and returns the status code.
func (h *Hub) Get(path string) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, h.URL()+path, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+APIToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.Bytes(), err
}

// WaitFor polls cond every 100 ms and fails the test after 30 s.
func WaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}
