package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// activeAlert is an alert of GET /api/v1/active-alerts.
type activeAlert struct {
	Name     string            `json:"name"`
	State    string            `json:"state"`
	ActiveAt time.Time         `json:"active_at"`
	FiredAt  *time.Time        `json:"fired_at"`
	Value    *float64          `json:"value"`
	Labels   map[string]string `json:"labels"`
	Machine  string            `json:"machine"`
	Hostname string            `json:"hostname"`
	GPU      *int              `json:"gpu"`
	Severity string            `json:"severity"`
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", url, err, b)
	}
}

// firing lists the hub's firing alerts named name.
func firing(t *testing.T, h *hub, name string) []activeAlert {
	t.Helper()
	var out struct{ Alerts []activeAlert }
	getJSON(t, h.http+"/api/v1/active-alerts", &out)
	return slices.DeleteFunc(out.Alerts, func(a activeAlert) bool { return a.Name != name })
}

// gpuProcess is a GPU process of a machine's latest report.
type gpuProcess struct{ gpu, pid int }

func gpuProcesses(t *testing.T, h *hub, key string) []gpuProcess {
	t.Helper()
	var r struct {
		Report struct {
			GpuData []struct {
				ID        int `json:"id"`
				Processes []struct {
					Pid int `json:"pid"`
				} `json:"processes"`
			} `json:"gpu_data"`
		} `json:"report"`
	}
	getJSON(t, h.http+"/api/v1/machines/"+key, &r)
	var out []gpuProcess
	for _, g := range r.Report.GpuData {
		for _, p := range g.Processes {
			out = append(out, gpuProcess{g.ID, p.Pid})
		}
	}
	return out
}

// idleHeld lists the GPUs the hub calls idle-held, as "machine/gpu".
func idleHeld(t *testing.T, h *hub) []string {
	t.Helper()
	var u struct {
		IdleHeld []struct {
			Machine string `json:"machine"`
			Index   int    `json:"index"`
		} `json:"idle_held"`
	}
	getJSON(t, h.http+"/api/v1/usage", &u)
	var out []string
	for _, g := range u.IdleHeld {
		out = append(out, fmt.Sprintf("%s/%d", g.Machine, g.Index))
	}
	slices.Sort(out)
	return out
}

// TestDefaultRulesAgainstSimulatedAgents: the default rules fire and
// resolve on what simulated agents report. GpuIdleHeld fires for exactly
// the GPUs the hub calls idle-held (its --idle-after); a simulated Xid
// (SIGUSR1 to a job's process) fires GpuXidError for that GPU with the
// Xid as its value; a stopped agent fires MachineOffline within its minute
// plus the offline limit and an evaluation, and it resolves when the agent
// is back.
func TestDefaultRulesAgainstSimulatedAgents(t *testing.T) {
	h := newHub(t, "--rule-interval", "1s", "--idle-after", "3s")
	startAgent(t, h, "alerts-idle", "dgxh100")
	offState := t.TempDir() // the machine secret, kept for the restart
	off := startAgent(t, h, "alerts-off", "rtx4090x2", "--state-dir", offState)
	waitFor(t, "both machines online", 30*time.Second, func() bool {
		_, a := online(t, h.http, "alerts-idle")
		_, b := online(t, h.http, "alerts-off")
		return a && b
	})

	t.Run("GpuIdleHeld fires for the idle-held GPUs", func(t *testing.T) {
		var alerts, held []string
		waitFor(t, "GpuIdleHeld alerts for the hub's idle-held GPUs", 90*time.Second, func() bool {
			alerts = alerts[:0]
			for _, a := range firing(t, h, "GpuIdleHeld") {
				if a.GPU == nil || a.Severity != "warning" {
					t.Fatalf("GpuIdleHeld alert without its GPU or severity: %+v", a)
				}
				alerts = append(alerts, fmt.Sprintf("%s/%d", a.Machine, *a.GPU))
			}
			slices.Sort(alerts)
			held = idleHeld(t, h)
			return len(held) > 0 && slices.Equal(alerts, held)
		})
	})

	t.Run("a simulated Xid fires GpuXidError", func(t *testing.T) {
		procs := gpuProcesses(t, h, "alerts-idle")
		if len(procs) == 0 {
			t.Fatal("no GPU process on alerts-idle")
		}
		p := procs[0]
		if err := syscall.Kill(p.pid, syscall.SIGUSR1); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "GpuXidError on GPU "+fmt.Sprint(p.gpu), 90*time.Second, func() bool {
			for _, a := range firing(t, h, "GpuXidError") {
				if a.Machine == "alerts-idle" && a.GPU != nil && *a.GPU == p.gpu && a.Value != nil && *a.Value == 31 && a.Severity == "critical" {
					return true
				}
			}
			return false
		})
		r := promQuery(t, h.http, fmt.Sprintf(`DCGM_FI_DEV_XID_ERRORS{Hostname="alerts-idle",gpu="%d"}`, p.gpu), time.Time{})
		if len(r.Data.Result) != 1 || r.Data.Result[0].Value[1] != "31" {
			t.Errorf("DCGM_FI_DEV_XID_ERRORS = %+v, want 31", r.Data.Result)
		}
	})

	t.Run("MachineOffline fires and resolves", func(t *testing.T) {
		stopped := time.Now()
		off.stop()
		waitFor(t, "MachineOffline for alerts-off", 3*time.Minute, func() bool {
			as := firing(t, h, "MachineOffline")
			return len(as) == 1 && as[0].Machine == "alerts-off"
		})
		a := firing(t, h, "MachineOffline")[0]
		if a.ActiveAt.Before(stopped) || a.FiredAt == nil || a.FiredAt.Sub(a.ActiveAt) < time.Minute || a.Severity != "critical" {
			t.Errorf("alert %+v: want it active after the stop at %v and firing a minute later", a, stopped)
		}
		if got := time.Since(stopped); got > 3*time.Minute {
			t.Errorf("fired %s after the stop", got)
		}
		startAgent(t, h, "alerts-off", "rtx4090x2", "--state-dir", offState)
		waitFor(t, "MachineOffline to resolve", 90*time.Second, func() bool { return len(firing(t, h, "MachineOffline")) == 0 })
	})
}

// writeRules writes a rule file.
func writeRules(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

const reloadRules = `groups:
  - name: reload
    rules:
      - alert: %s
        expr: vector(1)
`

// ruleNames lists the rules of GET /api/v1/rules.
func ruleNames(t *testing.T, h *hub) []string {
	t.Helper()
	var r struct {
		Data struct {
			Groups []struct {
				Rules []struct{ Name string }
			}
		}
	}
	getJSON(t, h.http+"/api/v1/rules", &r)
	var out []string
	for _, g := range r.Data.Groups {
		for _, rule := range g.Rules {
			out = append(out, rule.Name)
		}
	}
	return out
}

// TestRuleFileReload: a broken rule file refuses the hub's start with the
// file, line and reason; on SIGHUP a broken file keeps the previous rules
// (and the log says why), a good one replaces them; a file changed on disk
// is reloaded without SIGHUP.
func TestRuleFileReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lab.rules.yml")
	writeRules(t, path, "groups:\n  - name: reload\n    rules:\n      - alert: Broken\n        expr: sum(rate(DCGM_FI_DEV_GPU_UTIL[5m])\n")
	p := start(t, "gpumon-hub", "--data-dir", t.TempDir(), "--http-addr", freeAddr(t), "--grpc-addr", freeAddr(t),
		"--agent-token", agentToken, "--rules", path)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the hub started with a broken rule file")
	}
	if out := p.out.String(); p.cmd.ProcessState.ExitCode() == 0 || !strings.Contains(out, path+": 5:") || !strings.Contains(out, "unclosed left parenthesis") {
		t.Errorf("exit %d, output:\n%s\nwant the file, line 5 and the reason", p.cmd.ProcessState.ExitCode(), out)
	}

	writeRules(t, path, fmt.Sprintf(reloadRules, "First"))
	h := newHub(t, "--rules", filepath.Join(dir, "*.rules.yml"), "--default-rules=false", "--rule-interval", "1s")
	if got := ruleNames(t, h); !slices.Equal(got, []string{"First"}) {
		t.Fatalf("rules %v", got)
	}
	writeRules(t, path, fmt.Sprintf(reloadRules, "Second")+"        for: soon\n")
	if err := h.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the refusal in the log", 30*time.Second, func() bool {
		return strings.Contains(h.out.String(), "alerting rules not reloaded") && strings.Contains(h.out.String(), "soon")
	})
	if got := ruleNames(t, h); !slices.Equal(got, []string{"First"}) {
		t.Errorf("after a broken file: %v, want the previous rules", got)
	}
	writeRules(t, path, fmt.Sprintf(reloadRules, "Second"))
	if err := h.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the fixed file on SIGHUP", 30*time.Second, func() bool { return slices.Equal(ruleNames(t, h), []string{"Second"}) })
	writeRules(t, filepath.Join(dir, "more.rules.yml"), fmt.Sprintf(reloadRules, "Third"))
	waitFor(t, "a new file of the glob, without SIGHUP", 30*time.Second, func() bool {
		return slices.Equal(ruleNames(t, h), []string{"Second", "Third"})
	})
	if h.exited() {
		t.Fatal("the hub exited")
	}
}
