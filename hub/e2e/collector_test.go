package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// systemPython has Debian's python3-websockets, the library the original
// collector's websocket uses.
const systemPython = "/usr/bin/python3"

func needPythonWebsockets(t *testing.T) {
	t.Helper()
	if out, err := exec.Command(systemPython, "-c", "import websockets").CombinedOutput(); err != nil {
		t.Fatalf("this test needs Debian's python3-websockets (the original collector's websocket library): "+
			"run 'apt-get install -y python3-websockets' as root (make test-go does): %v\n%s", err, out)
	}
}

// collector runs testdata/original_collector.py against h.
func collector(t *testing.T, h *hub, args ...string) *proc {
	t.Helper()
	return start(t, systemPython, append([]string{"testdata/original_collector.py", "--hub", h.http}, args...)...)
}

// probe connects and registers once and returns what the collector printed.
func probe(t *testing.T, h *hub, args ...string) string {
	t.Helper()
	cmd := exec.Command(systemPython, append([]string{"testdata/original_collector.py", "--hub", h.http, "--mode", "probe"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("probe %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// sleeper is a process for a kill to stop.
func sleeper(t *testing.T) (*exec.Cmd, chan error) {
	t.Helper()
	cmd := exec.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, exited
}

func summary(t *testing.T, h *hub, key string) map[string]any {
	t.Helper()
	code, v, _ := call(t, "GET", h.http+"/api/v1/machines/"+key, "", nil)
	if code != http.StatusOK {
		return nil
	}
	s, _ := v.(map[string]any)["summary"].(map[string]any)
	return s
}

func killREST(t *testing.T, h *hub, host string, pids ...int) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"hostname": host, "pids": pids})
	code, v, _ := call(t, "POST", h.http+"/api/kill-processes", adminToken, strings.NewReader(string(body)))
	m, _ := v.(map[string]any)
	return code, m
}

// TestOriginalCollectorKill: a machine that still runs the original Python
// collector can be stopped from gpumon. The collector's websocket is refused
// without the agent token, a kill reaches it and comes back with its
// per-process results (a CPU process is refused by the hub, as an agent
// would), kills work over gRPC (gpumon kill) too, a second websocket for the
// hostname is refused, and can_kill follows the websocket.
func TestOriginalCollectorKill(t *testing.T) {
	needPythonWebsockets(t)
	h := newHub(t)
	if got := probe(t, h, "--hostname", "old-gpu"); got != "refused 401" {
		t.Errorf("websocket without a token: %q, want refused 401", got)
	}
	if got := probe(t, h, "--hostname", "old-gpu", "--token", "wrong-token-0001"); got != "refused 401" {
		t.Errorf("websocket with a wrong token: %q, want refused 401", got)
	}

	gpuJob, gpuJobExited := sleeper(t)
	cpuJob, cpuJobExited := sleeper(t)
	grpcJob, grpcJobExited := sleeper(t)
	c := collector(t, h, "--hostname", "old-gpu", "--token", agentToken,
		"--gpu-pid", fmt.Sprint(gpuJob.Process.Pid), "--gpu-pid", fmt.Sprint(grpcJob.Process.Pid))
	waitFor(t, "old-gpu online with can_kill", 30*time.Second, func() bool {
		s := summary(t, h, "old-gpu")
		return s != nil && s["online"] == true && s["can_kill"] == true && s["source"] == "legacy"
	})

	code, resp := killREST(t, h, "old-gpu", gpuJob.Process.Pid, cpuJob.Process.Pid)
	if code != http.StatusOK {
		t.Fatalf("kill: %d %v", code, resp)
	}
	results, _ := resp["results"].([]any)
	if len(results) != 2 {
		t.Fatalf("kill results %v, want two", resp)
	}
	first, second := results[0].(map[string]any), results[1].(map[string]any)
	if first["status"] != "success" || !strings.Contains(first["message"].(string), "已终止") {
		t.Errorf("the GPU process: %v, want the collector's success", first)
	}
	if second["status"] != "error" || !strings.Contains(second["message"].(string), "not a GPU process") {
		t.Errorf("the CPU process: %v, want the hub's refusal", second)
	}
	select {
	case <-gpuJobExited:
	case <-time.After(30 * time.Second):
		t.Error("the GPU process was not stopped")
	}
	select {
	case err := <-cpuJobExited:
		t.Errorf("the CPU process was stopped (%v); the hub must not send it", err)
	default:
	}

	// gpumon kill and the Python client use gRPC: the same route to the collector.
	conn := dialHub(t, h)
	ctx, cancel := context.WithTimeout(withToken(context.Background(), adminToken), 30*time.Second)
	defer cancel()
	gr, err := gpumonv1.NewFleetServiceClient(conn).KillProcesses(ctx, &gpumonv1.KillProcessesRequest{
		Hostname: "old-gpu", Pids: []int32{int32(grpcJob.Process.Pid)}})
	if err != nil || gr.GetStatus() != "success" {
		t.Errorf("gRPC kill: %v %v", gr, err)
	}
	select {
	case <-grpcJobExited:
	case <-time.After(30 * time.Second):
		t.Error("the process killed over gRPC was not stopped")
	}

	if got := probe(t, h, "--hostname", "old-gpu", "--token", agentToken); !strings.HasPrefix(got, "closed 1008") || !strings.Contains(got, "already connected") {
		t.Errorf("a second websocket for old-gpu: %q, want closed 1008 ... already connected", got)
	}

	c.stop()
	waitFor(t, "can_kill false once the collector is gone", 30*time.Second, func() bool {
		s := summary(t, h, "old-gpu")
		return s != nil && s["can_kill"] == false
	})
	if code, resp := killREST(t, h, "old-gpu", cpuJob.Process.Pid); code != http.StatusServiceUnavailable {
		t.Errorf("kill with no collector connected: %d %v, want 503", code, resp)
	}
	if !strings.Contains(c.out.String(), "registered") || !strings.Contains(c.out.String(), "killed") {
		t.Errorf("collector output:\n%s", c.out.String())
	}
}

// TestOriginalCollectorLeavesMidKill: a collector that goes away while a kill
// waits for its answer gives the caller a prompt 503 that says so, not a
// hang, and the hub keeps serving.
func TestOriginalCollectorLeavesMidKill(t *testing.T) {
	needPythonWebsockets(t)
	h := newHub(t, "--legacy-open")
	if got := probe(t, h, "--hostname", "open-gpu"); got != "registered" {
		t.Errorf("websocket without a token under --legacy-open: %q, want registered", got)
	}
	job, jobExited := sleeper(t)
	c := collector(t, h, "--hostname", "drop-gpu", "--mode", "drop", "--gpu-pid", fmt.Sprint(job.Process.Pid))
	waitFor(t, "drop-gpu with can_kill", 30*time.Second, func() bool {
		s := summary(t, h, "drop-gpu")
		return s != nil && s["can_kill"] == true
	})
	code, resp := killREST(t, h, "drop-gpu", job.Process.Pid)
	if code != http.StatusServiceUnavailable || !strings.Contains(fmt.Sprint(resp["message"]), "disconnected before it answered") {
		t.Errorf("kill while the collector leaves: %d %v, want 503 saying it disconnected", code, resp)
	}
	select {
	case err := <-jobExited:
		t.Errorf("the process exited (%v) although the collector dropped the kill", err)
	default:
	}
	<-c.done
	if !strings.Contains(c.out.String(), "dropped") {
		t.Errorf("collector output:\n%s", c.out.String())
	}
	waitFor(t, "can_kill false", 30*time.Second, func() bool {
		s := summary(t, h, "drop-gpu")
		return s != nil && s["can_kill"] == false
	})
	if h.exited() {
		t.Fatal("the hub exited")
	}
	_ = job.Process.Signal(syscall.SIGTERM)
}
