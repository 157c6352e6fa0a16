package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var machineKeys = []string{"host", "hostname", "online", "gpus", "gpus_busy", "gpu_memory_used_mib",
	"gpu_memory_total_mib", "gpu_utilization", "max_temperature_c", "cpu_percent", "memory_percent",
	"disk_percent", "ip_address", "last_seen", "simulated", "can_kill"}

var processKeys = []string{"host", "pid", "user", "gpus", "gpu_memory_mib", "container_id", "container",
	"session", "name", "command", "cpu_percent"}

func TestCommands(t *testing.T) {
	f := startFleet(t)
	t.Run("ls", func(t *testing.T) { testLs(t, f) })
	t.Run("free", func(t *testing.T) { testFree(t, f) })
	t.Run("ps", func(t *testing.T) { testPs(t, f) })
	t.Run("top", func(t *testing.T) { testTop(t, f) })
	t.Run("top on a terminal", func(t *testing.T) { testTopTerminal(t, f) })
	t.Run("usage", func(t *testing.T) { testUsage(t, f) })
	t.Run("kill", func(t *testing.T) { testKill(t, f) })
	t.Run("exit codes", func(t *testing.T) { testExitCodes(t, f) })
}

func testLs(t *testing.T, f *fleet) {
	r := f.gpumon(t, nil, "ls")
	if r.code != 0 {
		t.Fatalf("gpumon ls: exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"HOST", "GPU MEMORY", "gpu-a", "gpu-b", "online", "/8", "/4", "2 machines (2 online)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("gpumon ls lacks %q:\n%s", want, r.stdout)
		}
	}
	checkWidth(t, r.stdout)
	var out map[string]any
	decode(t, f.gpumon(t, nil, "--json", "ls"), &out)
	wantKeys(t, "ls", out, "machines", "totals")
	wantKeys(t, "ls totals", out["totals"].(map[string]any), "machines", "machines_online", "gpus", "gpus_busy",
		"gpu_memory_used_mib", "gpu_memory_total_mib")
	machines := out["machines"].([]any)
	if len(machines) != 2 {
		t.Fatalf("ls --json lists %d machines, want 2", len(machines))
	}
	a := machines[0].(map[string]any)
	wantKeys(t, "ls machine", a, machineKeys...)
	if a["host"] != "gpu-a" || a["gpus"] != 8.0 || a["online"] != true || a["can_kill"] != true {
		t.Errorf("first machine = %v, want gpu-a online with 8 GPUs that can kill", a)
	}
}

func testFree(t *testing.T, f *fleet) {
	var out struct{ GPUs []map[string]any }
	decode(t, f.gpumon(t, nil, "free", "--json", "--min-mem", "20G"), &out)
	if len(out.GPUs) == 0 {
		t.Fatal("free --min-mem 20G found no GPU on an 8xH100 and a 4x4090 machine")
	}
	wantKeys(t, "free gpu", out.GPUs[0], "host", "gpu", "uuid", "name", "memory_free_mib", "memory_total_mib",
		"utilization", "temperature_c", "processes", "online")
	for _, g := range out.GPUs {
		if g["memory_free_mib"].(float64) < 20*1024 {
			t.Errorf("free --min-mem 20G listed %v", g)
		}
	}
	decode(t, f.gpumon(t, nil, "free", "--idle", "--json"), &out)
	for _, g := range out.GPUs {
		if g["processes"].(float64) != 0 {
			t.Errorf("free --idle listed a GPU with processes: %v", g)
		}
	}
	decode(t, f.gpumon(t, nil, "free", "--json", "--min-mem", "30G"), &out)
	for _, g := range out.GPUs {
		if g["host"] == "gpu-b" {
			t.Errorf("a 24 GiB RTX 4090 cannot have 30G free: %v", g)
		}
	}
	r := f.gpumon(t, nil, "free")
	if r.code != 0 || !strings.Contains(r.stdout, "FREE") || !strings.Contains(r.stdout, "gpu-a") {
		t.Errorf("gpumon free: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	checkWidth(t, r.stdout)
}

func testPs(t *testing.T, f *fleet) {
	// Simulated jobs come and go: wait for a moment when some GPU runs one.
	var out struct{ Processes []map[string]any }
	waitFor(t, "a GPU process in ps --json", func() bool {
		decode(t, f.gpumon(t, nil, "ps", "--json"), &out)
		return len(out.Processes) > 0
	})
	wantKeys(t, "ps process", out.Processes[0], processKeys...)
	user := out.Processes[0]["user"].(string)
	decode(t, f.gpumon(t, nil, "ps", "--json", "--host", "gpu-b", "--user", user), &out)
	for _, p := range out.Processes {
		if p["host"] != "gpu-b" || p["user"] != user {
			t.Errorf("ps --host gpu-b --user %s listed %v", user, p)
		}
	}
	var r result
	row := regexp.MustCompile(`(?m)^gpu-[ab] +\d+ +\S+ +[\d,]+ +[\d.]+G +\S+ +\S`)
	waitFor(t, "a GPU process in gpumon ps", func() bool {
		r = f.gpumon(t, nil, "ps")
		return r.code == 0 && row.MatchString(r.stdout)
	})
	for _, want := range []string{"HOST", "PID", "USER", "GPU MEM", "WHERE", "COMMAND"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("gpumon ps lacks %q:\n%s", want, r.stdout)
		}
	}
	checkWidth(t, r.stdout)
}

func testTop(t *testing.T, f *fleet) {
	r := f.gpumon(t, nil, "top", "gpu-a", "--json", "--count", "2")
	if r.code != 0 {
		t.Fatalf("top --json: exit %d: %s", r.code, r.stderr)
	}
	lines := 0
	for sc := bufio.NewScanner(strings.NewReader(r.stdout)); sc.Scan(); lines++ {
		var u map[string]any
		if err := json.Unmarshal(sc.Bytes(), &u); err != nil {
			t.Fatalf("top --json line %d is not JSON: %v", lines+1, err)
		}
		wantKeys(t, "top update", u, "type", "machine", "gpus", "processes")
		wantKeys(t, "top machine", u["machine"].(map[string]any), machineKeys...)
		if gpus := u["gpus"].([]any); len(gpus) != 8 {
			t.Errorf("top update lists %d GPUs, want 8", len(gpus))
		}
	}
	if lines != 2 {
		t.Errorf("top --count 2 printed %d updates, want 2", lines)
	}
	r = f.gpumon(t, nil, "top", "gpu-b", "--count", "1")
	for _, want := range []string{"gpu-b", "online", "UTIL", "MEMORY", "POWER", "GeForce RTX 4090"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("gpumon top lacks %q:\n%s", want, r.stdout)
		}
	}
	checkWidth(t, r.stdout)
}

func testUsage(t *testing.T, f *fleet) {
	var out map[string]any
	decode(t, f.gpumon(t, nil, "usage", "--json", "--since", "1d"), &out)
	wantKeys(t, "usage", out, "start", "end", "users", "machines", "idle_held")
	for _, key := range []string{"users", "machines", "idle_held"} {
		if _, ok := out[key].([]any); !ok {
			t.Errorf("usage %s = %v, want a list", key, out[key])
		}
	}
	r := f.gpumon(t, nil, "usage", "--since", "7d")
	if r.code != 0 || !strings.Contains(r.stdout, "GPU use from") {
		t.Errorf("gpumon usage: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	checkWidth(t, r.stdout)
}

// testKill stops a real process through the agent on gpu-a.
func testKill(t *testing.T, f *fleet) {
	victim := exec.Command("sleep", "600")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- victim.Wait() }()
	defer victim.Process.Kill()
	pid := fmt.Sprint(victim.Process.Pid)
	admin := []string{"GPUMON_ADMIN_TOKEN=" + adminToken}
	waitFor(t, "the agent to report the victim", func() bool {
		r := f.gpumon(t, admin, "kill", "--json", "gpu-a", pid)
		return r.code == 0
	})
	<-exited // SIGTERM reached the process
	var out map[string]any
	r := f.gpumon(t, admin, "kill", "--json", "gpu-a", "999999")
	if r.code != 1 {
		t.Errorf("kill of an unreported pid: exit %d, want 1", r.code)
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("kill --json: %v\n%s", err, r.stdout)
	}
	wantKeys(t, "kill", out, "host", "status", "message", "results")
	if res := out["results"].([]any); len(res) != 1 {
		t.Errorf("kill results = %v, want one", res)
	} else {
		wantKeys(t, "kill result", res[0].(map[string]any), "pid", "status", "message")
	}
	if r := f.gpumon(t, nil, "kill", "gpu-a", "999999"); r.code != 4 || !strings.Contains(r.stderr, "admin token") {
		t.Errorf("kill with the API token: exit %d (%s), want 4 naming the admin token", r.code, r.stderr)
	}
	if r := f.gpumon(t, admin, "kill", "gpu-b", "1234"); r.code != 4 || !strings.Contains(r.stderr, "--allow-kill") {
		t.Errorf("kill on an agent without --allow-kill: exit %d (%s), want 4", r.code, r.stderr)
	}
}

// testTopTerminal runs gpumon top on a pseudo-terminal (util-linux script):
// it must redraw in place with ANSI and exit 0 on q.
func testTopTerminal(t *testing.T, f *fleet) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Fatal("this test needs script from util-linux (Debian: apt-get install -y bsdutils)")
	}
	line := filepath.Join(binDir, "gpumon") + " --hub " + f.grpc + " --token " + apiToken + " top gpu-a"
	cmd := exec.Command("script", "-qefc", line, "/dev/null")
	cmd.Env = []string{"TERM=xterm", "HOME=" + t.TempDir()}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var seen bytes.Buffer
	frames := 0
	r := bufio.NewReader(stdout)
	for frames < 2 {
		chunk, err := r.ReadString('\n')
		seen.WriteString(chunk)
		frames = strings.Count(seen.String(), "\x1b[H\x1b[2J")
		if err != nil {
			t.Fatalf("gpumon top ended before two frames (%v):\n%q", err, seen.String())
		}
	}
	if _, err := io.WriteString(stdin, "q"); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(r)
	seen.Write(rest)
	if err := cmd.Wait(); err != nil {
		t.Errorf("gpumon top after q: %v", err)
	}
	for _, want := range []string{"gpu-a", "H100", "q or Ctrl-C quits", "\x1b[?25h"} {
		if !strings.Contains(seen.String(), want) {
			t.Errorf("the live view lacks %q", want)
		}
	}
}
