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
	"sync"
	"testing"
)

var machineKeys = []string{"host", "hostname", "online", "gpus", "gpus_busy", "gpu_memory_used_mib",
	"gpu_memory_total_mib", "gpu_utilization", "max_temperature_c", "cpu_percent", "memory_percent",
	"disk_percent", "ip_address", "last_seen", "simulated", "can_kill", "gpus_free", "gpus_idle_held"}

var processKeys = []string{"host", "pid", "user", "gpus", "gpu_memory_mib", "container_id", "container",
	"session", "name", "command", "cpu_percent", "sm_utilization"}

func TestCommands(t *testing.T) {
	f := startFleet(t)
	t.Run("ls", func(t *testing.T) { testLs(t, f) })
	t.Run("free", func(t *testing.T) { testFree(t, f) })
	t.Run("ps", func(t *testing.T) { testPs(t, f) })
	t.Run("top", func(t *testing.T) { testTop(t, f) })
	t.Run("top on a terminal", func(t *testing.T) { testTopTerminal(t, f) })
	t.Run("top kill", func(t *testing.T) { testTopKill(t, f) })
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
	wantKeys(t, "ls totals", out["totals"].(map[string]any), "machines", "machines_online", "machines_offline", "gpus",
		"gpus_busy", "gpus_free", "gpus_idle_held", "gpus_offline", "gpu_memory_used_mib", "gpu_memory_total_mib")
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
	var out struct {
		GPUs     []map[string]any
		Criteria map[string]any
	}
	decode(t, f.gpumon(t, nil, "free", "--json", "--min-mem", "20G"), &out)
	if len(out.GPUs) == 0 {
		t.Fatal("free --min-mem 20G found no GPU on an 8xH100 and a 4x4090 machine (the simulator keeps one free on each)")
	}
	wantKeys(t, "free gpu", out.GPUs[0], "host", "gpu", "uuid", "name", "memory_free_mib", "memory_total_mib",
		"utilization", "temperature_c", "processes", "compute_processes", "score", "online")
	wantKeys(t, "free criteria", out.Criteria, "min_free_mib", "min_free_percent", "max_utilization", "idle", "shared", "include_offline")
	if out.Criteria["max_utilization"] != 10.0 || out.Criteria["min_free_percent"] != 90.0 || out.Criteria["min_free_mib"] != 20480.0 {
		t.Errorf("criteria = %v, want the hub's defaults (10 %%, 90 %%) and 20480 MiB", out.Criteria)
	}
	last := 2.0
	for _, g := range out.GPUs {
		free, total, score := g["memory_free_mib"].(float64), g["memory_total_mib"].(float64), g["score"].(float64)
		if free < 20*1024 || free < 0.9*total || g["compute_processes"] != 0.0 || (g["utilization"] != nil && g["utilization"].(float64) > 10) {
			t.Errorf("free listed a GPU that is not free by default: %v", g)
		}
		if score > last+0.005 {
			t.Errorf("free is not ranked by score: %v after a GPU scoring %.3f", g, last)
		}
		last = score
	}
	var wide struct{ GPUs []map[string]any }
	decode(t, f.gpumon(t, nil, "free", "--json", "--shared", "--max-util", "100", "--min-free-percent", "0"), &wide)
	if len(wide.GPUs) != 12 {
		t.Errorf("free --shared --max-util 100 --min-free-percent 0 listed %d GPUs, want all 12", len(wide.GPUs))
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
	if r := f.gpumon(t, nil, "free", "--max-util", "101"); r.code != 2 || !strings.Contains(r.stderr, "percentage") {
		t.Errorf("free --max-util 101: exit %d, %s; want a usage error", r.code, r.stderr)
	}
	r := f.gpumon(t, nil, "free")
	if r.code != 0 || !strings.Contains(r.stdout, "free: no compute process, util <= 10%, >= 90% of memory free") || !strings.Contains(r.stdout, "SCORE") {
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
	wantKeys(t, "usage", out, "start", "end", "users", "machines", "total", "idle_held", "idle_after_seconds")
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

// terminal is gpumon running on a pseudo-terminal (util-linux script).
type terminal struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	mu    sync.Mutex
	seen  bytes.Buffer
	done  chan struct{}
}

func startTerminal(t *testing.T, env []string, args string) *terminal {
	t.Helper()
	if _, err := exec.LookPath("script"); err != nil {
		t.Fatal("this test needs script from util-linux (Debian: apt-get install -y bsdutils)")
	}
	cmd := exec.Command("script", "-qefc", filepath.Join(binDir, "gpumon")+" "+args, "/dev/null")
	cmd.Env = append([]string{"TERM=xterm", "HOME=" + t.TempDir()}, env...)
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
	term := &terminal{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	go func() {
		defer close(term.done)
		buf := make([]byte, 4096)
		for {
			n, err := stdout.Read(buf)
			term.mu.Lock()
			term.seen.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-term.done })
	return term
}

func (term *terminal) output() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.seen.String()
}

// waitFor waits until the terminal has shown want, n times.
func (term *terminal) waitFor(t *testing.T, want string, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%q on the terminal", want), func() bool { return strings.Count(term.output(), want) >= n })
}

func (term *terminal) press(t *testing.T, keys string) {
	t.Helper()
	if _, err := io.WriteString(term.stdin, keys); err != nil {
		t.Fatal(err)
	}
}

// quit presses q and expects gpumon to exit 0 and restore the cursor.
func (term *terminal) quit(t *testing.T) {
	t.Helper()
	term.press(t, "q")
	<-term.done
	if err := term.cmd.Wait(); err != nil {
		t.Errorf("gpumon top after q: %v", err)
	}
	if !strings.Contains(term.output(), "\x1b[?25h") {
		t.Error("the cursor was not shown again")
	}
}

// testTopTerminal runs gpumon top on a pseudo-terminal: it redraws in place
// with colours, moves the selection, sorts, shows the help, and exits 0 on q.
func testTopTerminal(t *testing.T, f *fleet) {
	term := startTerminal(t, nil, "--hub "+f.grpc+" --token "+apiToken+" top gpu-a")
	term.waitFor(t, "\x1b[H\x1b[2J", 2)
	for _, want := range []string{"gpu-a", "H100", "q quit", "sort: GPU memory", "\x1b[32m", "\x1b[7m>"} {
		if !strings.Contains(term.output(), want) {
			t.Errorf("the live view lacks %q", want)
		}
	}
	term.press(t, "p")
	term.waitFor(t, "sort: PID", 1)
	term.press(t, "?")
	term.waitFor(t, "Keys", 1)
	term.press(t, " ")
	term.press(t, "\x1b[B")
	term.quit(t)

	plain := startTerminal(t, []string{"NO_COLOR=1"}, "--hub "+f.grpc+" --token "+apiToken+" top gpu-a")
	plain.waitFor(t, "\x1b[H\x1b[2J", 2)
	if strings.Contains(plain.output(), "\x1b[32m") || strings.Contains(plain.output(), "\x1b[7m") {
		t.Error("NO_COLOR is set, but the live view has colours")
	}
	if !regexp.MustCompile(`\r\n> +\d+ `).MatchString(plain.output()) {
		t.Error("without colours the selected process is not marked with >")
	}
	plain.quit(t)
}

// testTopKill stops a process from gpumon top: k asks, y sends the kill
// with the admin token (--token when there is none, as gpumon kill does),
// and the result for the PID is shown. gpu-b's
// agent runs without --allow-kill (the simulated GPU processes are real
// processes of this machine), so the result is the agent's refusal.
func testTopKill(t *testing.T, f *fleet) {
	noAdmin := startTerminal(t, nil, "--hub "+f.grpc+" --token "+apiToken+" top gpu-b")
	noAdmin.waitFor(t, "\x1b[H\x1b[2J", 1)
	noAdmin.press(t, "k")
	noAdmin.waitFor(t, "with SIGTERM? [y/N]", 1)
	noAdmin.press(t, "y")
	noAdmin.waitFor(t, "needs the admin token", 1) // the hub's answer to the API token
	noAdmin.quit(t)

	term := startTerminal(t, []string{"GPUMON_ADMIN_TOKEN=" + adminToken}, "--hub "+f.grpc+" --token "+apiToken+" top gpu-b")
	term.waitFor(t, "\x1b[H\x1b[2J", 1)
	term.press(t, "k")
	term.waitFor(t, "with SIGTERM? [y/N]", 1)
	term.press(t, "n")
	term.waitFor(t, "not stopped", 1)
	term.press(t, "k")
	term.waitFor(t, "with SIGTERM? [y/N]", 2)
	term.press(t, "y")
	term.waitFor(t, "does not allow kills", 1)
	if !regexp.MustCompile(`PID \d+: error: the agent on "gpu-b" does not allow kills`).MatchString(term.output()) {
		t.Errorf("the kill's result line is missing:\n%q", term.output())
	}
	term.quit(t)
}
