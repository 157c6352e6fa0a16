package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binDir holds the binaries built once for all tests.
var binDir string

// e2eVersion is the version the binaries are built with.
const e2eVersion = "0.0.0-e2e"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gpumon-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	cmd := exec.Command("go", "build", "-ldflags=-X main.version="+e2eVersion, "-o", dir+"/",
		"github.com/gpumon/gpumon/hub/cmd/gpumon-hub",
		"github.com/gpumon/gpumon/agent/cmd/gpumon-agent",
		"github.com/gpumon/gpumon/agent/cmd/gpumon-loadgen",
		"github.com/gpumon/gpumon/gateway/cmd/gpumon-gateway",
		"github.com/gpumon/gpumon/cli/cmd/gpumon")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build binaries:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running binary with its combined output captured.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	path := name
	if !filepath.IsAbs(name) {
		path = filepath.Join(binDir, name)
	}
	if filepath.Base(path) == "gpumon-agent" && !slices.Contains(args, "--state-dir") {
		// Its own machine secret, not the machine-wide state directory.
		args = append(args, "--state-dir", t.TempDir())
	}
	p := &proc{t: t, cmd: exec.Command(path, args...), out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("output of %s %s:\n%s", name, strings.Join(args, " "), p.out.String())
		}
	})
	return p
}

// stop sends SIGTERM and waits up to 10 s.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.t.Errorf("%s did not exit within 10 s of SIGTERM", p.cmd.Path)
		p.kill()
	}
}

func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
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

// hub is a running gpumon-hub.
type hub struct {
	*proc
	dataDir, http, grpc string
	agentToken          string
}

const (
	agentToken = "agent-token-e2e-0001"
	adminToken = "admin-token-e2e-0001"
)

func startHub(t *testing.T, dataDir, httpAddr, grpcAddr string, extra ...string) *hub {
	t.Helper()
	args := append([]string{"--data-dir", dataDir, "--http-addr", httpAddr, "--grpc-addr", grpcAddr,
		"--agent-token", agentToken, "--admin-token", adminToken}, extra...)
	h := &hub{proc: start(t, "gpumon-hub", args...), dataDir: dataDir, http: "http://" + httpAddr, grpc: grpcAddr, agentToken: agentToken}
	waitFor(t, "hub /healthz", 15*time.Second, func() bool {
		resp, err := http.Get(h.http + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return h
}

func newHub(t *testing.T, extra ...string) *hub {
	return startHub(t, t.TempDir(), freeAddr(t), freeAddr(t), extra...)
}

func startAgent(t *testing.T, h *hub, hostname, profile string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"--hub", h.grpc, "--token", h.agentToken, "--hostname", hostname,
		"--simulate", profile, "--interval", "1s"}, extra...)
	return start(t, "gpumon-agent", args...)
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) time.Duration {
	t.Helper()
	begin := time.Now()
	for !cond() {
		if time.Since(begin) > timeout {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(begin)
}

// call makes an HTTP request (a body is sent as application/json) and
// decodes a JSON answer.
func call(t *testing.T, method, url, token string, body io.Reader) (int, any, http.Header) {
	t.Helper()
	return callAs(t, method, url, token, "application/json", body)
}

// callAs is call with the body sent as contentType.
func callAs(t *testing.T, method, url, token, contentType string, body io.Reader) (int, any, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil && contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s %s: status %d, body is not JSON: %v\n%s", method, url, resp.StatusCode, err, data)
	}
	return resp.StatusCode, v, resp.Header
}

func get(t *testing.T, url string) any {
	t.Helper()
	code, v, _ := call(t, http.MethodGet, url, "", nil)
	if code != http.StatusOK {
		t.Fatalf("GET %s: status %d: %v", url, code, v)
	}
	return v
}

// machines returns GET /api/gpu-stats's machines map.
func machines(t *testing.T, base string) map[string]any {
	t.Helper()
	return get(t, base+"/api/gpu-stats").(map[string]any)["machines"].(map[string]any)
}

func online(t *testing.T, base, key string) (known, isOnline bool) {
	m, ok := machines(t, base)[key].(map[string]any)
	if !ok {
		return false, false
	}
	return true, m["is_online"] == true
}

// readLines reads newline-delimited JSON objects from a streaming response.
func readLines(ctx context.Context, t *testing.T, url string, n int) []map[string]any {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []map[string]any
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for len(out) < n && sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("watch line is not JSON: %v: %s", err, sc.Bytes())
		}
		out = append(out, m)
	}
	return out
}

func getText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func runCmd(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

func fmtSscan(s string, v any) (int, error) { return fmt.Sscan(s, v) }
