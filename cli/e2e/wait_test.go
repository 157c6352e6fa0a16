package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gpumon/gpumon/cli/internal/testfleet"
)

// waitProc is a gpumon wait running in the background.
type waitProc struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan struct{}
}

func startWait(t *testing.T, f *fleet, args ...string) *waitProc {
	t.Helper()
	w := &waitProc{cmd: exec.Command(filepath.Join(binDir, "gpumon"), args...), done: make(chan struct{})}
	w.cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "GPUMON_HUB=" + f.grpc, "GPUMON_TOKEN=" + apiToken}
	w.cmd.Stdout, w.cmd.Stderr = &w.stdout, &w.stderr
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = w.cmd.Wait(); close(w.done) }()
	t.Cleanup(func() { _ = w.cmd.Process.Kill(); <-w.done })
	return w
}

func (w *waitProc) exited() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

// TestWaitReturnsWhenAGPUFrees: gpumon wait --free N, with N one more than
// the machine has free, waits on the watch stream; ending a simulated job
// (its process killed) frees its GPUs and wait prints the machine with N
// GPUs, the freed one among them. --timeout without a match exits 6.
func TestWaitReturnsWhenAGPUFrees(t *testing.T) {
	h := testfleet.StartHub(t, binDir)
	f := &fleet{Hub: h, grpc: h.GRPC}
	h.StartAgent(t, "wait-a", "dgxh100")
	var procs struct{ Processes []map[string]any }
	waitFor(t, "wait-a's GPU processes", func() bool {
		r := f.gpumon(t, nil, "ps", "--host", "wait-a", "--json")
		return r.code == 0 && json.Unmarshal([]byte(r.stdout), &procs) == nil && len(procs.Processes) > 0
	})
	var free struct{ GPUs []map[string]any }
	decode(t, f.gpumon(t, nil, "free", "--json"), &free)
	n := len(free.GPUs) + 1
	if n > 8 {
		t.Fatalf("all 8 GPUs free with processes running: %v", free.GPUs)
	}
	w := startWait(t, f, "wait", "--free", strconv.Itoa(n), "--host", "wait-a", "--json")

	// The job to end: a process on a GPU that is not free.
	freeIdx := map[float64]bool{}
	for _, g := range free.GPUs {
		freeIdx[g["gpu"].(float64)] = true
	}
	var pid int
	var gpus []float64
	for _, p := range procs.Processes {
		for _, g := range p["gpus"].([]any) {
			if !freeIdx[g.(float64)] && pid == 0 {
				pid, gpus = int(p["pid"].(float64)), nil
				for _, g := range p["gpus"].([]any) {
					gpus = append(gpus, g.(float64))
				}
			}
		}
	}
	if pid == 0 {
		t.Fatalf("no process on a busy GPU: %v", procs.Processes)
	}
	time.Sleep(3 * time.Second) // several samples: nothing to return on yet
	if w.exited() {
		t.Fatalf("wait returned before any GPU was freed: exit %d, %s %s", w.cmd.ProcessState.ExitCode(), w.stdout.String(), w.stderr.String())
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("wait did not return after job PID %d on GPUs %v ended", pid, gpus)
	}
	var out map[string]any
	if err := json.Unmarshal(w.stdout.Bytes(), &out); err != nil || w.cmd.ProcessState.ExitCode() != 0 {
		t.Fatalf("exit %d, stdout %q, stderr %q", w.cmd.ProcessState.ExitCode(), w.stdout.String(), w.stderr.String())
	}
	wantKeys(t, "wait", out, "host", "hostname", "gpus", "cuda_visible_devices", "waited_seconds")
	listed := out["gpus"].([]any)
	wantKeys(t, "wait gpu", listed[0].(map[string]any), "gpu", "uuid", "name", "memory_free_mib", "memory_total_mib", "utilization", "score")
	var idx []string
	freed := false
	for _, g := range listed {
		i := g.(map[string]any)["gpu"].(float64)
		idx = append(idx, strconv.Itoa(int(i)))
		freed = freed || slices.Contains(gpus, i)
	}
	slices.SortFunc(idx, func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return x - y })
	if out["host"] != "wait-a" || len(listed) != n || out["cuda_visible_devices"] != strings.Join(idx, ",") {
		t.Errorf("wait answered %v; want wait-a with %d GPUs, CUDA_VISIBLE_DEVICES their indices", out, n)
	}
	if !freed {
		t.Errorf("the GPUs %v of the ended job are not among %v", gpus, idx)
	}

	t.Run("text output", func(t *testing.T) {
		r := f.gpumon(t, nil, "wait", "--host", "wait-a", "--shared", "--max-util", "100", "--min-free-percent", "0", "--free", "8")
		if r.code != 0 || r.stdout != "wait-a CUDA_VISIBLE_DEVICES=0,1,2,3,4,5,6,7\n" {
			t.Errorf("exit %d, %q (%s)", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		begin := time.Now()
		r := f.gpumon(t, nil, "wait", "--free", "9", "--timeout", "3s")
		if r.code != 6 || !strings.Contains(r.stderr, "9 free GPU(s) within 3s") || r.stdout != "" {
			t.Errorf("exit %d, stdout %q, stderr %q; want exit 6 saying so", r.code, r.stdout, r.stderr)
		}
		if time.Since(begin) < 3*time.Second {
			t.Errorf("gave up after %s, before its --timeout", time.Since(begin))
		}
	})
	t.Run("usage", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			code int
			say  string
		}{
			{[]string{"wait", "wait-a"}, 2, "after --"},
			{[]string{"wait", "--free", "0"}, 2, "--free 0"},
			{[]string{"wait", "--here", "--host", "wait-a"}, 2, "--here"},
			{[]string{"wait", "--", "no-such-program-gpumon"}, 2, "no-such-program-gpumon"},
			{[]string{"wait", "--host", "nowhere"}, 5, "nowhere"},
			{[]string{"wait", "--here"}, 5, "this machine"},
			{[]string{"wait", "--max-util", "200"}, 2, "percentage"},
		} {
			if r := f.gpumon(t, nil, tc.args...); r.code != tc.code || !strings.Contains(r.stderr, tc.say) {
				t.Errorf("gpumon %s: exit %d, %q; want %d saying %q", strings.Join(tc.args, " "), r.code, r.stderr, tc.code, tc.say)
			}
		}
	})
}

// TestWaitRunsACommandHere: with -- COMMAND, wait picks GPUs of this
// machine and runs COMMAND in its place with CUDA_VISIBLE_DEVICES and
// CUDA_DEVICE_ORDER set; the exit status is the command's, the match line
// goes to standard error.
func TestWaitRunsACommandHere(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	h := testfleet.StartHub(t, binDir)
	f := &fleet{Hub: h, grpc: h.GRPC}
	h.StartAgent(t, "elsewhere", "rtx4090x2")
	h.StartAgent(t, host, "rtx4090x4")
	waitFor(t, "both machines", func() bool {
		var out struct{ Machines []any }
		r := f.gpumon(t, nil, "ls", "--json", "--online")
		return r.code == 0 && json.Unmarshal([]byte(r.stdout), &out) == nil && len(out.Machines) == 2
	})
	r := f.gpumon(t, nil, "wait", "--free", "3", "--shared", "--max-util", "100", "--min-free-percent", "0",
		"--", "sh", "-c", `echo "$CUDA_VISIBLE_DEVICES $CUDA_DEVICE_ORDER"; exit 7`)
	if r.code != 7 {
		t.Fatalf("exit %d, want the command's 7 (stderr %s)", r.code, r.stderr)
	}
	fields := strings.Fields(r.stdout)
	if len(fields) != 2 || fields[1] != "PCI_BUS_ID" || len(strings.Split(fields[0], ",")) != 3 {
		t.Errorf("the command saw %q; want three GPUs and PCI_BUS_ID", r.stdout)
	}
	if !strings.HasPrefix(r.stderr, host+" CUDA_VISIBLE_DEVICES="+fields[0]) {
		t.Errorf("stderr %q, want the match line of %s", r.stderr, host)
	}
}
