// Package testfleet runs a real hub and simulated agents, built from this
// checkout, as processes for the command line's end-to-end tests (see
// common/testproc).
package testfleet

import (
	"bytes"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/gpumon/gpumon/common/testproc"
)

// Tokens of every hub StartHub runs.
const (
	AgentToken = "agent-token-test-0001"
	APIToken   = "api-token-test-0001"
	AdminToken = "admin-token-test-0001"
)

// Hub is a running gpumon-hub.
type Hub struct {
	HTTP, GRPC, DataDir string
	Bin                 string // directory of the binaries
	Proc                *testproc.Proc
}

// URL is the hub's HTTP base URL.
func (h *Hub) URL() string { return "http://" + h.HTTP }

// StartHub runs a hub from binDir with the package's tokens plus extra flags
// and waits until /healthz answers.
func StartHub(t *testing.T, binDir string, extra ...string) *Hub {
	t.Helper()
	h := &Hub{HTTP: testproc.FreeAddr(t), GRPC: testproc.FreeAddr(t), DataDir: t.TempDir(), Bin: binDir}
	args := append([]string{"--data-dir", h.DataDir, "--http-addr", h.HTTP, "--grpc-addr", h.GRPC,
		"--agent-token", AgentToken, "--api-token", APIToken, "--admin-token", AdminToken}, extra...)
	h.Proc = testproc.Start(t, filepath.Join(binDir, "gpumon-hub"), args...)
	testproc.WaitFor(t, "hub /healthz", 30*time.Second, func() bool {
		resp, err := http.Get(h.URL() + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	})
	return h
}

// StartAgent runs a simulated agent (interval 1 s) that reports as hostname.
func (h *Hub) StartAgent(t *testing.T, hostname, profile string, extra ...string) *testproc.Proc {
	t.Helper()
	args := append([]string{"--hub", h.GRPC, "--token", AgentToken, "--hostname", hostname,
		"--simulate", profile, "--interval", "1s"}, extra...)
	return testproc.Start(t, filepath.Join(h.Bin, "gpumon-agent"), args...)
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
