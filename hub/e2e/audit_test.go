package e2e

import (
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// logLines returns the hub's log lines with msg, each holding all of want.
func logLines(h *hub, msg string, want ...string) []string {
	var out []string
	for _, l := range strings.Split(h.out.String(), "\n") {
		if !strings.Contains(l, "msg="+msg+" ") && !strings.Contains(l, `msg="`+msg+`"`) {
			continue
		}
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(l, w)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

// TestAuditTrail: kills, forgets, refused reports and refused credentials
// each leave a log line with the route, the kind of token, the remote
// address and the result; a flood of refusals is rate-limited.
func TestAuditTrail(t *testing.T) {
	h := newHub(t, "--api-token", "api-token-e2e-0001")
	victim := exec.Command("sleep", "300")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = victim.Process.Kill(); _ = victim.Wait() }()
	startAgent(t, h, "e2e-audit", "rtx4090x4", "--allow-kill")
	waitFor(t, "agent online", 20*time.Second, func() bool {
		code, v, _ := call(t, http.MethodGet, h.http+"/api/v1/machines", "api-token-e2e-0001", nil)
		return code == 200 && strings.Contains(fmt.Sprint(v), "e2e-audit")
	})

	call(t, http.MethodPost, h.http+"/api/kill-processes", adminToken, strings.NewReader(fmt.Sprintf(`{"hostname":"e2e-audit","pids":[%d]}`, victim.Process.Pid)))
	call(t, http.MethodPost, h.http+"/api/report-gpu-stats", agentToken, strings.NewReader(`{"hostname":"e2e-gone"}`))
	call(t, http.MethodPost, h.http+"/api/report-gpu-stats", agentToken, strings.NewReader(`{"hostname":"bad host"}`))
	call(t, http.MethodGet, h.http+"/api/v1/machines", "not-a-token-0001", nil)
	call(t, http.MethodGet, h.http+"/metrics", "", nil)
	call(t, http.MethodGet, h.http+"/ws", "not-a-token-0004", nil)
	waitFor(t, "e2e-gone offline", 30*time.Second, func() bool {
		_, v, _ := call(t, http.MethodGet, h.http+"/api/v1/machines/e2e-gone", adminToken, nil)
		return strings.Contains(fmt.Sprint(v), "online:false")
	})
	call(t, http.MethodDelete, h.http+"/api/v1/machines/e2e-gone", adminToken, nil)
	call(t, http.MethodDelete, h.http+"/api/v1/machines/e2e-gone", "api-token-e2e-0001", nil)

	remote := "remote=127.0.0.1"
	for _, c := range []struct {
		what, msg string
		want      []string
	}{
		{"a kill", "kill", []string{"level=INFO", "route=/gpumon.v1.FleetService/KillProcesses", "token=admin", remote, "result=error", "host=e2e-audit", "uses no GPU"}},
		{"a forget", "forget", []string{"level=INFO", "route=/gpumon.v1.FleetService/ForgetMachine", "token=admin", remote, "result=OK", "machine=e2e-gone"}},
		{"a forget without the admin token", "request refused", []string{"level=WARN", "route=/gpumon.v1.FleetService/ForgetMachine", "token=api", remote, "result=PermissionDenied"}},
		{"a refused report", "report refused", []string{"level=WARN", "route=/gpumon.v1.FleetService/ReportGpuStats", "token=agent", remote, "result=InvalidArgument", "hostname"}},
		{"an unknown token", "request refused", []string{"level=WARN", "route=/gpumon.v1.FleetService/ListMachines", "token=invalid", remote, "result=Unauthenticated"}},
		{"/metrics without a token", "request refused", []string{"level=WARN", `route="GET /metrics"`, "token=none", remote, "result=401"}},
		{"the collector's websocket with an unknown token", "request refused", []string{"level=WARN", `route="GET /ws"`, "token=invalid", remote, "result=401"}},
	} {
		// The hub's output reaches the test through a pipe: wait for it.
		waitFor(t, fmt.Sprintf("a log line for %s with msg=%s and %v", c.what, c.msg, c.want), 10*time.Second, func() bool {
			return len(logLines(h, c.msg, c.want...)) > 0
		})
	}

	// A flood of bad tokens: at most the burst plus the rate's share of the
	// time, and the next line says how many were left out.
	before := len(logLines(h, "request refused"))
	begin := time.Now()
	for range 2000 {
		call(t, http.MethodGet, h.http+"/api/v1/machines", "not-a-token-0002", nil)
	}
	elapsed := time.Since(begin)
	time.Sleep(time.Second) // the last lines through the pipe
	flood := len(logLines(h, "request refused")) - before
	if limit := 100 + int((elapsed+time.Second).Seconds()*10) + 1; flood > limit {
		t.Errorf("2,000 refused requests in %s wrote %d lines, want at most %d", elapsed, flood, limit)
	}
	time.Sleep(200 * time.Millisecond) // 10 lines a second: room for the next
	call(t, http.MethodGet, h.http+"/api/v1/machines", "not-a-token-0003", nil)
	waitFor(t, "the count of lines left out", 10*time.Second, func() bool {
		return len(logLines(h, "request refused", "suppressed_before=")) > 0
	})
	n := regexp.MustCompile(`suppressed_before=(\d+)`).FindStringSubmatch(logLines(h, "request refused", "suppressed_before=")[0])
	t.Logf("2,000 refused requests in %s: %d lines written, the next line counts %s left out", elapsed.Round(time.Millisecond), flood, n[1])
}
