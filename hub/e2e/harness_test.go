package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gpumon/gpumon/common/testproc"
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
	if err := testproc.Build(dir, "-X main.version="+e2eVersion, testproc.Packages()...); err != nil {
		fmt.Fprintln(os.Stderr, "build binaries:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running binary with its combined output captured (out.String()).
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	out  *testproc.Proc
	done <-chan struct{}
}

// start runs name (a binary built by TestMain, or an absolute path) until
// the test ends.
func start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	path := name
	if !filepath.IsAbs(name) {
		path = filepath.Join(binDir, name)
	}
	p := testproc.Start(t, path, args...)
	return &proc{t: t, cmd: p.Cmd, out: p, done: p.Done()}
}

// stop sends SIGTERM and waits up to 10 s.
func (p *proc) stop() { p.out.Stop() }

func (p *proc) kill() { p.out.Kill() }

func (p *proc) exited() bool { return p.out.Exited() }

var freeAddr = testproc.FreeAddr

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

var waitFor = testproc.WaitFor

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
