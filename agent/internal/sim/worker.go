package sim

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// jobEnv names the environment variable that makes gpumon-agent's binary a
// simulated job's process: "<socket> <job id> <process index>".
const jobEnv = "GPUMON_SIM_JOB"

// IsWorker reports whether this process was started by the simulator as a
// simulated job's process (see RunWorker). gpumon-agent's main asks first.
func IsWorker() bool {
	_, ok := os.LookupEnv(jobEnv)
	return ok
}

// hello is what the simulator answers a worker that says who it is.
type hello struct {
	Error string  `json:"error,omitempty"`
	Spawn []spawn `json:"spawn,omitempty"`
}

// spawn is a process a worker starts (torchrun's launcher starts one per
// GPU).
type spawn struct {
	Path string   `json:"path"`
	Argv []string `json:"argv"`
	Env  []string `json:"env"`
}

// workerHelloTimeout bounds the wait for the simulator's answer.
const workerHelloTimeout = 30 * time.Second

// RunWorker is the life of a simulated job's process: it tells the
// simulator who it is over the simulator's socket, starts the processes it
// is asked to, then waits, using no CPU, until the simulator closes the
// connection (the job ends or the agent exits, even by SIGKILL) or one of
// its own processes exits. SIGTERM, SIGINT and SIGHUP end it at once, as
// they would the program it plays; SIGUSR1 makes its GPUs report Xid
// SimulatedXID, as a fault of the program would. It returns the exit status.
func RunWorker(stderr io.Writer) int {
	// Pdeathsig of the processes it starts follows this thread: keep it.
	runtime.LockOSThread()
	conn, children, err := joinSimulator(os.Getenv(jobEnv))
	if err != nil {
		fmt.Fprintf(stderr, "%s: this program is a simulated job of gpumon-agent --simulate: %v\n", os.Args[0], err)
		return 1
	}
	done := make(chan struct{}, len(children)+1)
	go func() { _, _ = io.Copy(io.Discard, conn); done <- struct{}{} }()
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	go func() {
		for range usr1 {
			_, _ = conn.Write([]byte("xid\n"))
		}
	}()
	for _, c := range children {
		go func() { _ = c.Wait(); done <- struct{}{} }()
	}
	<-done
	_ = conn.Close()
	stopChildren(children)
	return 0
}

// joinSimulator connects to the simulator named in spec, says which job
// process this is and starts the processes the answer lists.
func joinSimulator(spec string) (*net.UnixConn, []*exec.Cmd, error) {
	f := strings.Fields(spec)
	if len(f) != 3 {
		return nil, nil, fmt.Errorf("bad %s %q", jobEnv, spec)
	}
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: "@" + f[0], Net: "unix"})
	if err != nil {
		return nil, nil, fmt.Errorf("its agent is gone: %w", err)
	}
	if _, err := fmt.Fprintf(conn, "%s %s\n", f[1], f[2]); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("register with the agent: %w", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(workerHelloTimeout))
	line, err := bufio.NewReader(io.LimitReader(conn, 1<<20)).ReadBytes('\n')
	var h hello
	if err == nil {
		err = json.Unmarshal(line, &h)
	}
	if err == nil && h.Error != "" {
		err = errors.New(h.Error)
	}
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("register with the agent: %w", err)
	}
	_ = conn.SetReadDeadline(time.Time{})
	var children []*exec.Cmd
	for _, s := range h.Spawn {
		c := &exec.Cmd{Path: s.Path, Args: s.Argv, Env: s.Env,
			SysProcAttr: &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}}
		if err := c.Start(); err != nil {
			conn.Close()
			stopChildren(children)
			return nil, nil, fmt.Errorf("start %s: %w", s.Path, err)
		}
		children = append(children, c)
	}
	return conn, children, nil
}

// stopChildren ends the processes a worker started: SIGTERM, then SIGKILL
// for any still there after a second.
func stopChildren(children []*exec.Cmd) {
	for _, c := range children {
		_ = c.Process.Signal(syscall.SIGTERM)
	}
	deadline := time.Now().Add(time.Second)
	for _, c := range children {
		for alive(c.Process.Pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		_ = c.Process.Kill()
	}
}
