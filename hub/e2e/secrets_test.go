package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// An agent started the old way, with --token on its command line, reports
// its own process (a simulated GPU process: the agent's own PID comes
// first): no reader sees the token, through any route. A collector's POST
// with secrets in a command line is redacted by the hub.
func TestAgentTokenNeverPublished(t *testing.T) {
	h := newHub(t)
	startAgent(t, h, "e2e-leak", "rtx4090x4")
	waitFor(t, "the agent's own process reported", 20*time.Second, func() bool {
		m, ok := machines(t, h.http)["e2e-leak"]
		return ok && strings.Contains(fmt.Sprint(m), "gpumon-agent --hub")
	})
	cmdline := "python train.py --password hunter2 WANDB_API_KEY=wk-123 --hub-token " + agentToken
	body := fmt.Sprintf(`{"hostname":"e2e-collector","gpu_data":[{"id":0,"name":"H100","memory_used":1,"memory_total":2,
		"processes":[{"pid":7,"name":"train","cmdline":%q,"is_gpu_process":true,"gpu_memory_usage":1,"gpu_id":0}]}],
		"system_info":{"processes":[{"pid":7,"name":"train","cmdline":%q,"is_gpu_process":true,"gpu_memory_usage":1,"gpu_id":0}]}}`, cmdline, cmdline)
	if code, v := postJSON(t, h.http+"/api/report-gpu-stats", agentToken, body); code != 200 {
		t.Fatalf("POST: %d %v", code, v)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	watch := fmt.Sprint(readLines(ctx, t, h.http+"/api/v1/watch?include_report=true&machine=e2e-leak", 2))
	// Not through start(): a failure must not print this machine's process table.
	ps, err := exec.Command(filepath.Join(binDir, "gpumon"), "ps", "--json", "--hub", h.grpc).CombinedOutput()
	if err != nil {
		t.Fatalf("gpumon ps --json: %v", err)
	}
	sources := map[string]struct {
		text, redacted string
	}{
		"GET /api/gpu-stats":            {getText(t, h.http+"/api/gpu-stats"), "gpumon-agent --hub " + h.grpc + " --token ***"},
		"GET /api/v1/machines/e2e-leak": {getText(t, h.http+"/api/v1/machines/e2e-leak"), "gpumon-agent --hub " + h.grpc + " --token ***"},
		"the watch stream":              {watch, "gpumon-agent --hub " + h.grpc + " --token ***"},
		// ps lists GPU processes: the collector's, redacted by the hub.
		"gpumon ps --json": {string(ps), "--hub-token ***"},
	}
	for name, src := range sources {
		if strings.Contains(src.text, agentToken) {
			t.Errorf("%s shows the agent token", name)
		}
		if !strings.Contains(src.text, src.redacted) {
			t.Errorf("%s does not show the redacted command line %q", name, src.redacted)
		}
	}
	collector := getText(t, h.http+"/api/v1/machines/e2e-collector")
	for _, secret := range []string{"hunter2", "wk-123", agentToken} {
		if strings.Contains(collector, secret) {
			t.Errorf("a posted command line shows %q", secret)
		}
	}
	if !strings.Contains(collector, "--password *** WANDB_API_KEY=*** --hub-token ***") {
		t.Error("the posted command line is not redacted as expected")
	}
}
