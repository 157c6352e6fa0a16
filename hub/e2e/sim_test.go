package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpumon/gpumon/common/testdeb"
)

// simReport is the part of GET /api/v1/machines/{key} this test reads.
type simReport struct {
	Report struct {
		GPUs   []simGPU `json:"gpu_data"`
		System struct {
			Screen []simSession `json:"screen_sessions"`
			Tmux   []simSession `json:"tmux_sessions"`
		} `json:"system_info"`
	} `json:"report"`
}

type simGPU struct {
	ID         int          `json:"id"`
	MemoryUsed int          `json:"memory_used"`
	Processes  []simProcess `json:"processes"`
}

type simSession struct{ Name, Pid string }

// hasSession reports whether ss holds a session called name.
func hasSession(ss []simSession, name string) bool {
	return slices.ContainsFunc(ss, func(s simSession) bool { return s.Name == name })
}

type simProcess struct {
	PID     int    `json:"pid"`
	Name    string `json:"name"`
	Cmdline string `json:"cmdline"`
	Memory  int    `json:"gpu_memory_usage"`
	Session *struct {
		Kind, Name string
	} `json:"session"`
}

func simMachine(t *testing.T, h *hub, key string) simReport {
	t.Helper()
	code, body, _ := call(t, http.MethodGet, h.http+"/api/v1/machines/"+key, "", nil)
	var r simReport
	if code == http.StatusOK {
		b, _ := json.Marshal(body)
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("machine %s: %v", key, err)
		}
	}
	return r
}

// TestSimulatedJobs runs the real agent with --simulate against a real hub
// and checks the lab it shows: every GPU process is a job process the agent
// started (never an unrelated process of this machine) with a job's command
// line, training runs sit in screen sessions, killing a job's process
// through the hub ends the job and frees its GPU in the next report, and the
// job processes die with the agent, even when it is killed with SIGKILL.
func TestSimulatedJobs(t *testing.T) {
	sessions := testdeb.Ensure(t, "screen", "tmux")
	h := newHub(t)
	// e2e-lab's seed runs a full machine at the start: servers and a
	// training run in screen, a torchrun job in tmux, two notebooks. Its
	// next try to start a job comes three minutes after the start, so a GPU
	// freed here stays free while the test looks.
	agent := startAgent(t, h, "e2e-lab", "dgxh100", "--allow-kill")
	var r simReport
	waitFor(t, "jobs on the GPUs", 30*time.Second, func() bool {
		r = simMachine(t, h, "e2e-lab")
		return len(r.Report.GPUs) == 8 && !slices.ContainsFunc(r.Report.GPUs, func(g simGPU) bool { return len(g.Processes) == 0 })
	})
	agentBin, _ := filepath.EvalSymlinks(filepath.Join(binDir, "gpumon-agent"))
	var pids []int
	var victim simProcess
	victimGPU := -1
	for _, g := range r.Report.GPUs {
		for _, p := range g.Processes {
			pids = append(pids, p.PID)
			exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.PID))
			cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.PID))
			if exe != agentBin || strings.ReplaceAll(strings.TrimSuffix(string(cmdline), "\x00"), "\x00", " ") != p.Cmdline ||
				!strings.HasPrefix(p.Name, "python") || p.Memory <= 0 {
				t.Errorf("GPU %d: process %d (%s %q, %d MiB) is not a job the agent started (exe %s)", g.ID, p.PID, p.Name, p.Cmdline, p.Memory, exe)
			}
			if sessions && p.Session != nil && p.Session.Kind == "screen" && victimGPU < 0 {
				victim, victimGPU = p, g.ID
			}
		}
	}
	t.Logf("GPU processes: %v", pids)
	if sessions {
		if victimGPU < 0 {
			t.Fatal("no GPU process in a screen session")
		}
		if !hasSession(r.Report.System.Screen, victim.Session.Name) || len(r.Report.System.Tmux) == 0 {
			t.Errorf("sessions: screen %v, tmux %v; want %q among the screen sessions and a tmux session", r.Report.System.Screen, r.Report.System.Tmux, victim.Session.Name)
		}
	} else {
		victim, victimGPU = r.Report.GPUs[0].Processes[0], r.Report.GPUs[0].ID
	}

	body := fmt.Sprintf(`{"hostname": "e2e-lab", "pids": [%d]}`, victim.PID)
	if code, v, _ := call(t, http.MethodPost, h.http+"/api/kill-processes", adminToken, strings.NewReader(body)); code != http.StatusOK || !strings.Contains(fmt.Sprint(v), "success") {
		t.Fatalf("kill %d: %d %v", victim.PID, code, v)
	}
	waitFor(t, "the killed job's GPU free in a report", 30*time.Second, func() bool {
		g := simMachine(t, h, "e2e-lab").Report.GPUs[victimGPU]
		return len(g.Processes) == 0 && g.MemoryUsed <= 1
	})
	if sessions {
		waitFor(t, "its screen session gone from the report", 30*time.Second, func() bool {
			return !hasSession(simMachine(t, h, "e2e-lab").Report.System.Screen, victim.Session.Name)
		})
	}

	agent.kill() // SIGKILL: the agent cannot clean up
	waitFor(t, "every job process gone with the agent", 30*time.Second, func() bool {
		return !slices.ContainsFunc(pids, func(pid int) bool {
			exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
			return err == nil && exe == agentBin
		})
	})
}
