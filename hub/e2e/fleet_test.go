package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gpumon/gpumon/common/jsontest"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// documented is the report shape of the original API, with types.
func documented(t *testing.T) any {
	t.Helper()
	data, err := os.ReadFile("../../common/wirejson/testdata/documented_report.json")
	if err != nil {
		t.Fatal(err)
	}
	return jsontest.Decode(t, data)
}

func TestTwoAgentsDocumentedShape(t *testing.T) {
	h := newHub(t)
	startAgent(t, h, "e2e-dgx", "dgxh100")
	startAgent(t, h, "e2e-4090", "rtx4090x4")
	waitFor(t, "both machines", 20*time.Second, func() bool { return len(machines(t, h.http)) == 2 })

	want := documented(t)
	for key, gpus := range map[string]int{"e2e-dgx": 8, "e2e-4090": 4} {
		m := machines(t, h.http)[key].(map[string]any)
		for _, d := range jsontest.Shape(want, m) {
			t.Errorf("%s: %s", key, d)
		}
		if n := len(m["gpu_data"].([]any)); n != gpus {
			t.Errorf("%s: %d GPUs, want %d", key, n, gpus)
		}
		if m["is_online"] != true || m["hostname"] != key {
			t.Errorf("%s: is_online=%v hostname=%v", key, m["is_online"], m["hostname"])
		}
		g := m["gpu_data"].([]any)[0].(map[string]any)
		if g["name"] == "" || g["memory_total"] == json.Number("0") {
			t.Errorf("%s: static GPU facts missing from the served report: %v", key, g)
		}
		procs := m["system_info"].(map[string]any)["processes"].([]any)
		if len(procs) < 5 {
			t.Errorf("%s: only %d processes: the real process table should be there", key, len(procs))
		}
	}

	list := get(t, h.http+"/api/v1/machines").(map[string]any)
	totals := list["totals"].(map[string]any)
	if totals["gpus"] != json.Number("12") || totals["machines_online"] != json.Number("2") {
		t.Errorf("totals = %v", totals)
	}
	one := get(t, h.http+"/api/v1/machines/e2e-4090").(map[string]any)
	if one["summary"].(map[string]any)["gpu_count"] != json.Number("4") || one["report"] == nil {
		t.Errorf("GET machine = %v", one["summary"])
	}
	free := get(t, h.http+"/api/v1/free-gpus?min_free_memory=1000").(map[string]any)["gpus"].([]any)
	if len(free) == 0 {
		t.Error("no free GPUs in a simulated fleet with idle GPUs")
	}
}

func TestAgentOfflineAndBack(t *testing.T) {
	h := newHub(t)
	state := t.TempDir() // the restarted agent keeps its machine secret
	a := startAgent(t, h, "e2e-flaky", "rtx4090x4", "--state-dir", state)
	waitFor(t, "agent online", 20*time.Second, func() bool { _, on := online(t, h.http, "e2e-flaky"); return on })

	a.kill() // SIGKILL: no goodbye
	took := waitFor(t, "machine offline", 15*time.Second, func() bool {
		known, on := online(t, h.http, "e2e-flaky")
		return known && !on
	})
	t.Logf("offline %s after SIGKILL of the agent", took.Round(100*time.Millisecond))
	sum := get(t, h.http+"/api/v1/machines/e2e-flaky").(map[string]any)["summary"].(map[string]any)
	if sum["online"] != false {
		t.Errorf("summary online = %v", sum["online"])
	}

	startAgent(t, h, "e2e-flaky", "rtx4090x4", "--state-dir", state)
	took = waitFor(t, "machine online again", 20*time.Second, func() bool { _, on := online(t, h.http, "e2e-flaky"); return on })
	t.Logf("online again %s after restart", took.Round(100*time.Millisecond))
	if n := len(machines(t, h.http)); n != 1 {
		t.Errorf("%d machines after the agent's restart, want 1 (same machine id)", n)
	}
}

func TestHubRestartKeepsRegistry(t *testing.T) {
	dir, httpAddr, grpcAddr := t.TempDir(), freeAddr(t), freeAddr(t)
	h := startHub(t, dir, httpAddr, grpcAddr)
	startAgent(t, h, "e2e-keep", "dgxh100")
	code, _, _ := call(t, http.MethodPost, h.http+"/api/report-gpu-stats", agentToken,
		strings.NewReader(`{"hostname": "e2e-legacy", "gpu_data": [], "system_info": {"cpu_percent": 5}}`))
	if code != http.StatusOK {
		t.Fatalf("legacy POST: %d", code)
	}
	waitFor(t, "agent online", 20*time.Second, func() bool { _, on := online(t, h.http, "e2e-keep"); return on })

	h.stop()
	h = startHub(t, dir, httpAddr, grpcAddr)
	ms := machines(t, h.http)
	if len(ms) != 2 {
		t.Fatalf("after restart the registry has %d machines, want 2", len(ms))
	}
	if ms["e2e-legacy"].(map[string]any)["is_online"] != false {
		t.Error("a machine restored from the registry must be offline until it reports")
	}
	took := waitFor(t, "agent reconnected", 40*time.Second, func() bool { _, on := online(t, h.http, "e2e-keep"); return on })
	t.Logf("agent back online %s after the hub restarted", took.Round(100*time.Millisecond))
}

// TestKillRoundTrip: a kill goes to the agent and back with a result per
// PID. --allow-kill covers processes using a GPU only: a real process that
// uses none (sleep) is refused and keeps running, until an agent started with
// --allow-kill-non-gpu is asked. PIDs are exact: anything but a positive
// whole number is a 400 naming it, before any agent is asked.
func TestKillRoundTrip(t *testing.T) {
	h := newHub(t)
	pid, exited := startVictim(t)

	startAgent(t, h, "e2e-kill", "rtx4090x4", "--allow-kill")
	startAgent(t, h, "e2e-killany", "rtx4090x4", "--allow-kill", "--allow-kill-non-gpu")
	startAgent(t, h, "e2e-nokill", "rtx4090x4")
	for _, host := range []string{"e2e-kill", "e2e-killany"} {
		waitFor(t, host+" reports the victim", 20*time.Second, func() bool {
			m, ok := machines(t, h.http)[host].(map[string]any)
			return ok && strings.Contains(fmt.Sprint(m["system_info"]), fmt.Sprintf("pid:%d ", pid))
		})
	}
	waitFor(t, "third agent", 20*time.Second, func() bool { _, on := online(t, h.http, "e2e-nokill"); return on })
	kill := func(host string, pids string) (int, map[string]any) {
		t.Helper()
		code, v, _ := call(t, http.MethodPost, h.http+"/api/kill-processes", adminToken,
			strings.NewReader(fmt.Sprintf(`{"hostname": %q, "pids": [%s]}`, host, pids)))
		return code, v.(map[string]any)
	}

	for _, bad := range []string{"1785.5", "true", `"12"`, "4294967295", "0", "-1"} {
		code, v := kill("e2e-killany", fmt.Sprintf("%d, %s", pid, bad))
		if code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(v["message"]), "pids[1] = "+bad+" is not a process id") {
			t.Errorf("pids [%d, %s]: %d %v, want 400 naming %s", pid, bad, code, v, bad)
		}
	}

	// gRPC's pids are int32 already; zero and negatives are refused there too.
	ctx, cancel := context.WithTimeout(withToken(context.Background(), adminToken), 10*time.Second)
	defer cancel()
	_, err := gpumonv1.NewFleetServiceClient(dialHub(t, h)).KillProcesses(ctx, &gpumonv1.KillProcessesRequest{Hostname: "e2e-killany", Pids: []int32{int32(pid), -1}})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "pids[1] = -1") {
		t.Errorf("gRPC kill of pid -1: %v, want InvalidArgument naming it", err)
	}

	code, resp := kill("e2e-kill", fmt.Sprintf("%d, 1", pid))
	results, _ := resp["results"].([]any)
	if code != http.StatusOK || len(results) != 2 || resp["status"] != "error" {
		t.Fatalf("kill on a GPU-only agent: %d %v", code, resp)
	}
	first, second := results[0].(map[string]any), results[1].(map[string]any)
	if first["pid"] != json.Number(fmt.Sprint(pid)) || first["status"] != "error" || !strings.Contains(fmt.Sprint(first["message"]), "uses no GPU") {
		t.Errorf("a process using no GPU, --allow-kill only: %v, want refused", first)
	}
	if second["status"] != "error" || !strings.Contains(fmt.Sprint(second["message"]), "never") {
		t.Errorf("PID 1 result = %v", second)
	}
	select {
	case <-exited:
		t.Fatal("the victim was stopped by an agent that may stop GPU processes only")
	case <-time.After(time.Second):
	}

	code, resp = kill("e2e-killany", fmt.Sprint(pid))
	results, _ = resp["results"].([]any)
	if code != http.StatusOK || resp["status"] != "success" || len(results) != 1 || results[0].(map[string]any)["status"] != "success" {
		t.Fatalf("kill with --allow-kill-non-gpu: %d %v", code, resp)
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the victim is still running 10 s after a successful kill")
	}

	code, resp = kill("e2e-nokill", "12345")
	if code != http.StatusForbidden || !strings.Contains(fmt.Sprint(resp), "--allow-kill") {
		t.Errorf("kill on an agent without --allow-kill: %d %v", code, resp)
	}
}

func TestWatchStream(t *testing.T) {
	h := newHub(t)
	startAgent(t, h, "e2e-watch", "rtx4090x4")
	waitFor(t, "agent online", 20*time.Second, func() bool { _, on := online(t, h.http, "e2e-watch"); return on })
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	lines := readLines(ctx, t, h.http+"/api/v1/watch?include_report=true", 3)
	if len(lines) != 3 {
		t.Fatalf("got %d watch lines, want 3", len(lines))
	}
	if lines[0]["type"] != "WATCH_EVENT_TYPE_INITIAL" {
		t.Errorf("first event = %v, want the initial state", lines[0]["type"])
	}
	for _, l := range lines {
		m, _ := l["machine"].(map[string]any)
		if m["key"] != "e2e-watch" || l["report"] == nil {
			t.Errorf("watch line = %v", l)
		}
	}
}

// startVictim starts a real process to be killed (sleep 300); exited is
// closed when it ends. It is killed at the end of the test.
func startVictim(t *testing.T) (pid int, exited <-chan struct{}) {
	t.Helper()
	victim := exec.Command("sleep", "300")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = victim.Wait(); close(done) }()
	t.Cleanup(func() { _ = victim.Process.Kill(); <-done })
	return victim.Process.Pid, done
}
