package sim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/gpumon/gpumon/common/testdeb"
)

// holderEnv makes the test binary a stand-in agent: it starts a simulated
// machine with workers, prints its jobs and waits to be killed. claimEnv
// ("<socket> <job> <process>") makes it a process that claims to be a job's
// and prints the answer.
const (
	holderEnv = "GPUMON_SIM_TEST_HOLDER"
	claimEnv  = "GPUMON_SIM_TEST_CLAIM"
)

func TestMain(m *testing.M) {
	if IsWorker() {
		os.Exit(RunWorker(os.Stderr))
	}
	if spec := os.Getenv(holderEnv); spec != "" {
		os.Exit(hold(spec))
	}
	if claim := os.Getenv(claimEnv); claim != "" {
		addr, rest, _ := strings.Cut(claim, " ")
		fmt.Print(claimAs(addr, rest))
		os.Exit(0)
	}
	os.Exit(runIsolated(m))
}

// runIsolated runs the tests with screen sessions (SCREENDIR) and a temporary
// directory (TMPDIR) of their own. This user's sessions and /tmp are shared
// with everything else on the machine (other tests, agents simulating jobs):
// a session already holding a job's name makes the simulator pick another,
// and any simulator starting sweeps the directories of dead ones.
func runIsolated(m *testing.M) int {
	dir, err := os.MkdirTemp("", "gpumon-sim-tests-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	// screen wants its directory the user's alone; the temporary one is
	// open to all, as /tmp is (a test runs a program there as nobody).
	for _, d := range []struct {
		env, sub string
		mode     os.FileMode
	}{{"SCREENDIR", "screens", 0o700}, {"TMPDIR", "tmp", 0o777 | os.ModeSticky}} {
		path := filepath.Join(dir, d.sub)
		if err := errors.Join(os.Mkdir(path, 0o700), os.Chmod(path, d.mode), os.Chmod(dir, 0o755)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		os.Setenv(d.env, path)
	}
	return m.Run()
}

// hold runs a simulated machine with workers ("profile seed") until killed.
func hold(spec string) int {
	var profile string
	var seed uint64
	if _, err := fmt.Sscan(spec, &profile, &seed); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	m, err := New(profile, WithSeed(seed), WithWorkers(slog.New(slog.NewTextHandler(os.Stderr, nil))))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	_ = json.NewEncoder(os.Stdout).Encode(m.Jobs(time.Now()))
	select {}
}

// syncClock is an injected clock the simulator's goroutines may read.
type syncClock struct{ ns atomic.Int64 }

func newSyncClock(t time.Time) *syncClock {
	c := &syncClock{}
	c.set(t)
	return c
}

func (c *syncClock) now() time.Time  { return time.Unix(0, c.ns.Load()) }
func (c *syncClock) set(t time.Time) { c.ns.Store(t.UnixNano()) }

// waitUntil polls cond every 50 ms and fails the test after a minute: the
// machine may be loaded, so nothing here depends on timing.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// agentSchedule draws what an agent's simulated dgxh100 runs (jobs without
// owners of their own), with made-up PIDs instead of processes.
func agentSchedule(seed uint64) *Schedule {
	return newSchedule(seed, 8, false, t0, scheduleConfig{fakePIDs: true, home: homeDir(nil)})
}

// labSeed finds a seed whose dgxh100 machine runs, at t0, a training run
// (screen), a torchrun job (tmux) and a notebook: the schedule is
// deterministic, so this is the same seed every time.
func labSeed(t *testing.T) uint64 {
	t.Helper()
	for seed := range uint64(500) {
		have := map[Kind]bool{}
		for _, j := range agentSchedule(seed).Running(t0) {
			have[j.Kind] = true
		}
		if have[KindTrain] && have[KindFinetune] && have[KindNotebook] {
			return seed
		}
	}
	t.Fatal("no seed runs a training run, a torchrun job and a notebook at the start")
	return 0
}

// TestWorkers runs a simulated machine with real worker processes and
// checks what a user of gpumon would: each job is a process with the job's
// name and command line, inside its screen or tmux session; simulated GPU
// memory belongs to these processes and no others; killing one ends its job
// and frees its GPUs; jobs end on schedule; Close leaves nothing behind.
func TestWorkers(t *testing.T) {
	sessions := testdeb.Ensure(t, "screen", "tmux")
	clk := newSyncClock(t0)
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m, err := New("dgxh100", WithSeed(labSeed(t)), WithClock(clk.now), WithWorkers(log))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	dir := m.workers.dir
	want := agentSchedule(labSeed(t)).Running(t0)
	waitUntil(t, "every job's processes", func() bool { return len(m.Jobs(t0)) == len(want) })
	jobs := m.Jobs(t0)
	var all []int
	for _, j := range jobs {
		checkWorkerJob(t, m, j, sessions)
		for _, pid := range j.PIDs {
			all = append(all, int(pid))
		}
	}
	checkOnlyWorkersOnGPUs(t, m, all)

	byKind := map[Kind]Job{}
	for _, j := range jobs {
		byKind[j.Kind] = j
	}
	t.Run("SIGUSR1 makes the process's GPUs report an Xid", func(t *testing.T) {
		set, _ := m.EventSetCreate()
		defer m.EventSetFree(set)
		for g, h := range m.handles {
			if ret := h.RegisterEvents(nvml.EventTypeXidCriticalError, set); ret != nvml.SUCCESS {
				t.Fatalf("register GPU %d: %v", g, ret)
			}
		}
		nb := byKind[KindNotebook]
		if err := syscall.Kill(int(nb.PIDs[0]), syscall.SIGUSR1); err != nil {
			t.Fatal(err)
		}
		got := map[int]uint64{}
		waitUntil(t, "an Xid on each of the notebook's GPUs", func() bool {
			if ev, ret := m.EventSetWait(set, 100); ret == nvml.SUCCESS {
				got[ev.Device.(device).index] = ev.EventData
			}
			return len(got) >= len(nb.GPUs)
		})
		for _, g := range nb.GPUs {
			if got[g] != SimulatedXID {
				t.Errorf("GPU %d: Xid %d, want %d", g, got[g], SimulatedXID)
			}
		}
		if len(got) != len(nb.GPUs) {
			t.Errorf("Xids on GPUs %v, want the notebook's %v only", got, nb.GPUs)
		}
		if noneAlive(nb.PIDs) || gpuFree(m, nb.GPUs[0]) {
			t.Error("the notebook ended: an Xid leaves the job running")
		}
	})
	t.Run("killing the process ends the job", func(t *testing.T) {
		train := byKind[KindTrain]
		g := train.GPUs[0]
		if err := syscall.Kill(int(train.PIDs[0]), syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "GPU freed", func() bool { return gpuFree(m, g) })
		if sessions {
			waitUntil(t, "screen session gone", func() bool { return screenPID(screenDir(), train.Session.Name) == 0 })
		}
	})
	t.Run("killing one rank ends the torchrun job", func(t *testing.T) {
		ft := byKind[KindFinetune]
		if err := syscall.Kill(int(ft.PIDs[1]), syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "every GPU of the job freed", func() bool {
			return !slices.ContainsFunc(ft.GPUs, func(g int) bool { return !gpuFree(m, g) })
		})
		waitUntil(t, "every process of the job gone", func() bool { return noneAlive(ft.PIDs) })
	})
	t.Run("a registration that is not a job's waiting process is refused", func(t *testing.T) {
		nb := byKind[KindNotebook]
		for _, claim := range []string{fmt.Sprintf("%d 0", nb.ID), "999999 0", fmt.Sprintf("%d 7", nb.ID), "garbage"} {
			if reply := register(t, m.workers.addr, claim); !strings.Contains(reply, "error") {
				t.Errorf("claim %q: answer %q, want an error", claim, reply)
			}
		}
		// Another user's process is not even answered (the agent's user
		// is, with an error, above): it can never pass for a job's.
		if os.Geteuid() == 0 {
			if reply := claimAsNobody(t, m.workers.addr, fmt.Sprintf("%d 0", nb.ID)); reply != "" {
				t.Errorf("a process of user nobody was answered %q", reply)
			}
		}
		if j, ok := m.model.sched.on(nb.GPUs[0], clk.now()); !ok || j.PIDs[0] != nb.PIDs[0] {
			t.Errorf("the notebook's process changed: %+v", j)
		}
	})
	t.Run("jobs end and start on schedule", func(t *testing.T) {
		later := t0.Add(5 * time.Hour)
		clk.set(later)
		waitUntil(t, "the first jobs' processes exit", func() bool { return noneAlive(toPIDs(all)) })
		waitUntil(t, "every job due at +5h running", func() bool {
			due := 0
			m.model.sched.mu.Lock()
			for _, j := range m.model.sched.jobs {
				if j.runningAt(later) && !j.ended {
					due++
				}
			}
			m.model.sched.mu.Unlock()
			return due > 0 && len(m.Jobs(later)) == due
		})
	})
	later := m.Jobs(clk.now())
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	for _, j := range later {
		if !noneAlive(j.PIDs) {
			t.Errorf("job %d's processes %v outlived Close", j.ID, j.PIDs)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("simulator directory %s left behind: %v", dir, err)
	}
}

// testWriter sends log lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// checkWorkerJob checks the processes of j as the process collector and a
// user's ps would see them.
func checkWorkerJob(t *testing.T, m *Machine, j Job, sessions bool) {
	t.Helper()
	for i, p := range j.Procs {
		pid := int(j.PIDs[i])
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if got := strings.Split(strings.TrimSuffix(string(cmdline), "\x00"), "\x00"); !slices.Equal(got, p.Argv) {
			t.Errorf("job %d process %d: cmdline %q, want %q", j.ID, pid, got, p.Argv)
		}
		if got := strings.TrimSpace(string(comm)); got != p.Exe {
			t.Errorf("job %d process %d: name %q, want %q", j.ID, pid, got, p.Exe)
		}
		parent := ppid(t, pid)
		switch {
		case p.Parent >= 0:
			if parent != int(j.PIDs[p.Parent]) {
				t.Errorf("job %d: rank %d has parent %d, want the launcher %d", j.ID, pid, parent, j.PIDs[p.Parent])
			}
		case sessions && j.Session.Kind == "screen":
			pc, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", parent))
			if !bytes.Contains(pc, []byte("-dmS\x00"+j.Session.Name+"\x00")) {
				t.Errorf("job %d: parent of %d is %q, want screen session %s", j.ID, pid, pc, j.Session.Name)
			}
		case sessions && j.Session.Kind == "tmux":
			if pc := readComm(parent); pc != "tmux: server" {
				t.Errorf("job %d: parent of %d is %q, want a tmux server", j.ID, pid, pc)
			}
		}
		if p.GPU >= 0 && !gpuHolds(m, p.GPU, uint32(pid)) {
			t.Errorf("job %d: process %d holds no memory on GPU %d", j.ID, pid, p.GPU)
		}
	}
}

// checkOnlyWorkersOnGPUs: every GPU process is one of the workers.
func checkOnlyWorkersOnGPUs(t *testing.T, m *Machine, workers []int) {
	t.Helper()
	for g := range len(m.Devices) {
		d, _ := m.DeviceGetHandleByIndex(g)
		procs, _ := d.GetComputeRunningProcesses()
		for _, p := range procs {
			if !slices.Contains(workers, int(p.Pid)) {
				t.Errorf("GPU %d: process %d is not a simulated job's", g, p.Pid)
			}
		}
	}
}

func gpuHolds(m *Machine, g int, pid uint32) bool {
	d, _ := m.DeviceGetHandleByIndex(g)
	procs, _ := d.GetComputeRunningProcesses()
	return slices.ContainsFunc(procs, func(p nvml.ProcessInfo) bool { return p.Pid == pid && p.UsedGpuMemory > 0 })
}

// gpuFree: no process and only the driver's reserve in use.
func gpuFree(m *Machine, g int) bool {
	d, _ := m.DeviceGetHandleByIndex(g)
	procs, _ := d.GetComputeRunningProcesses()
	mem, _ := d.GetMemoryInfo()
	return len(procs) == 0 && mem.Used>>20 == m.model.spec.reservedMiB
}

func ppid(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatalf("process %d: %v", pid, err)
	}
	st, err := parseStat(b)
	if err != nil {
		t.Fatal(err)
	}
	return st.ppid
}

func readComm(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(b))
}

func noneAlive(pids []uint32) bool {
	return !slices.ContainsFunc(pids, func(p uint32) bool { return alive(int(p)) })
}

func toPIDs(ps []int) []uint32 {
	out := make([]uint32, len(ps))
	for i, p := range ps {
		out[i] = uint32(p)
	}
	return out
}

// register connects to the simulator as a worker would and returns its
// answer.
func register(t *testing.T, addr, claim string) string {
	t.Helper()
	reply := claimAs(addr, claim)
	if reply == "" {
		return "error: connection closed"
	}
	return reply
}

// claimAs says claim to the simulator at addr and returns its answer, ""
// when it closes the connection without one.
func claimAs(addr, claim string) string {
	c, err := net.Dial("unix", "@"+addr)
	if err != nil {
		return "error: " + err.Error()
	}
	defer c.Close()
	fmt.Fprintln(c, claim)
	_ = c.SetReadDeadline(time.Now().Add(time.Minute))
	line, _ := bufio.NewReader(c).ReadString('\n')
	return line
}

// claimAsNobody runs claimAs in a copy of this test binary as user nobody.
func claimAsNobody(t *testing.T, addr, claim string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "gpumon-sim-claim-") // t.TempDir's parent is closed to others
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "claim")
	b, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	c := exec.Command(bin, "-test.run=^$")
	c.Env = []string{claimEnv + "=" + addr + " " + claim}
	c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := c.Output()
	if err != nil {
		t.Fatalf("claim as nobody: %v", err)
	}
	return string(out)
}

// TestWorkersDieWithTheAgent: a stand-in agent (this test binary) starts a
// simulated machine with workers and is killed with SIGKILL, which it cannot
// catch; its workers and their sessions go with it.
func TestWorkersDieWithTheAgent(t *testing.T) {
	sessions := testdeb.Ensure(t, "screen", "tmux")
	holder := exec.Command(os.Args[0], "-test.run=^$")
	// Its own temporary directory: any simulator that starts meanwhile (other
	// tests run agents with --simulate) sweeps dead agents' directories from
	// the shared one, which this test wants to find still there.
	tmp := t.TempDir()
	holder.Env = append(os.Environ(), holderEnv+"=dgxh100 "+strconv.FormatUint(labSeed(t), 10), "TMPDIR="+tmp)
	var stderr bytes.Buffer
	holder.Stderr = &stderr
	out, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = holder.Process.Kill(); _ = holder.Wait() })
	var jobs []Job
	if err := json.NewDecoder(out).Decode(&jobs); err != nil {
		t.Fatalf("stand-in agent: %v\n%s", err, stderr.String())
	}
	var pids []uint32
	var screens []string
	for _, j := range jobs {
		pids = append(pids, j.PIDs...)
		if j.Session.Kind == "screen" {
			screens = append(screens, j.Session.Name)
		}
	}
	if len(jobs) < 3 || slices.Contains(pids, 0) || noneAlive(pids) {
		t.Fatalf("jobs %+v", jobs)
	}
	if err := holder.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = holder.Wait()
	waitUntil(t, "the workers to exit", func() bool { return noneAlive(pids) })
	if sessions {
		waitUntil(t, "their screen sessions to end", func() bool {
			return !slices.ContainsFunc(screens, func(n string) bool { return screenPID(screenDir(), n) != 0 })
		})
	}
	// The dead agent's directory is left; the next simulator to start
	// removes it.
	left := filepath.Join(tmp, fmt.Sprintf("gpumon-sim-%d-*", holder.Process.Pid))
	if m, _ := filepath.Glob(left); len(m) != 1 {
		t.Fatalf("directories of the killed agent: %v", m)
	}
	sweepStaleDirs(tmp)
	if m, _ := filepath.Glob(left); len(m) != 0 {
		t.Errorf("sweep left %v", m)
	}
}

// TestWorkerWithoutSimulator: the program run by hand, outside a
// simulator, says what it is and exits with an error.
func TestWorkerWithoutSimulator(t *testing.T) {
	c := exec.Command(os.Args[0], "-test.run=^$")
	c.Env = append(os.Environ(), jobEnv+"=gpumon-sim-none 1 0")
	out, err := c.CombinedOutput()
	if code := c.ProcessState.ExitCode(); err == nil || code != 1 || !strings.Contains(string(out), "simulated job of gpumon-agent --simulate") {
		t.Errorf("exit %d, output %q", code, out)
	}
}

// TestSweepStaleDirs: directories of dead simulators go; a live one's and
// other files stay.
func TestSweepStaleDirs(t *testing.T) {
	tmp := t.TempDir()
	dead, live, other := filepath.Join(tmp, "gpumon-sim-999999999-1"), filepath.Join(tmp, fmt.Sprintf("gpumon-sim-%d-2", os.Getpid())), filepath.Join(tmp, "gpumon-sim-x")
	for _, d := range []string{dead, live, other} {
		if err := os.MkdirAll(filepath.Join(d, "bin"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	sweepStaleDirs(tmp)
	for d, want := range map[string]bool{dead: false, live: true, other: true} {
		if _, err := os.Stat(d); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", d, err == nil, want)
		}
	}
}
