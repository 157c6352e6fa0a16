package sim

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

const (
	// maxWorkers bounds the processes the simulator runs at once.
	maxWorkers = 64
	// startTimeout is how long a job's processes have to start.
	startTimeout = 15 * time.Second
	// stopTimeout is how long a job's processes have to exit once told to
	// before they are killed.
	stopTimeout = 5 * time.Second
	// firstJobsWait bounds how long New waits for the jobs running at the
	// start, so that the first sample shows them.
	firstJobsWait = 5 * time.Second
	// syncEvery is how often the simulator starts and ends jobs.
	syncEvery = time.Second
)

// programs are the names jobs run as; each is a link to the agent's binary
// in the simulator's bin directory.
var programs = []string{"python", "python3", "torchrun", "Xorg"}

// supervisor runs the schedule's jobs as real processes.
type supervisor struct {
	log   *slog.Logger
	sched *Schedule
	now   func() time.Time
	// xid makes GPUs report a simulated Xid (a process got SIGUSR1).
	xid func(gpus []int)
	// dir is the simulator's private directory; bin, the programs in it.
	dir, bin string
	ln       *net.UnixListener
	addr     string // abstract socket name, without its leading '@'
	uid      uint32
	sessions sessionTools

	mu      sync.Mutex
	jobs    map[int]*running
	workers int // processes running or starting
	closed  bool

	kick      chan struct{}
	stop      chan struct{}
	loopDone  chan struct{}
	wg        sync.WaitGroup // job stops and connections
	closeOnce sync.Once
	closeErr  error
}

// running is one job whose processes the supervisor started.
type running struct {
	job     Job
	session startedSession
	procs   []*worker
	started time.Time
	live    bool
	ending  bool
}

// worker is one registered process of a job.
type worker struct {
	pid   int
	start uint64 // start time from /proc/<pid>/stat: its identity
	// ppid is its parent when it registered: a job's first process in a
	// screen session is the child of that session's server.
	ppid int
	conn net.Conn
	gone bool
}

func startSupervisor(log *slog.Logger, sched *Schedule, now func() time.Time, xid func(gpus []int)) (*supervisor, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the agent's binary for simulated jobs: %w", err)
	}
	s := &supervisor{
		log: log, sched: sched, now: now, xid: xid, uid: uint32(os.Geteuid()), sessions: findSessionTools(),
		jobs: map[int]*running{}, kick: make(chan struct{}, 1), stop: make(chan struct{}), loopDone: make(chan struct{}),
	}
	sweepStaleDirs(os.TempDir())
	if s.dir, err = os.MkdirTemp("", fmt.Sprintf("gpumon-sim-%d-", os.Getpid())); err != nil {
		return nil, fmt.Errorf("create the simulator's directory: %w", err)
	}
	s.bin = filepath.Join(s.dir, "bin")
	if err := linkPrograms(s.bin, exe); err != nil {
		os.RemoveAll(s.dir)
		return nil, err
	}
	var nonce [6]byte
	_, _ = rand.Read(nonce[:])
	s.addr = fmt.Sprintf("gpumon-sim-%d-%s", os.Getpid(), hex.EncodeToString(nonce[:]))
	if s.ln, err = net.ListenUnix("unix", &net.UnixAddr{Name: "@" + s.addr, Net: "unix"}); err != nil {
		os.RemoveAll(s.dir)
		return nil, fmt.Errorf("listen for simulated jobs: %w", err)
	}
	s.wg.Add(1)
	go s.accept()
	s.sync(now())
	s.waitFirstJobs()
	go s.loop()
	log.Info("simulated jobs started", "dir", s.dir, "screen", s.sessions.screen != "", "tmux", s.sessions.tmux != "")
	return s, nil
}

// linkPrograms makes bin hold each program name as a link to exe: a job
// run through the link has its name (its /proc comm) and its argv.
func linkPrograms(bin, exe string) error {
	if err := os.Mkdir(bin, 0o700); err != nil {
		return fmt.Errorf("create the simulator's bin directory: %w", err)
	}
	for _, p := range programs {
		if err := os.Symlink(exe, filepath.Join(bin, p)); err != nil {
			return fmt.Errorf("link %s for simulated jobs: %w", p, err)
		}
	}
	return nil
}

// sweepStaleDirs removes the directories of simulators that died without
// cleaning up (gpumon-sim-<pid>-* whose pid is gone).
func sweepStaleDirs(tmp string) {
	matches, _ := filepath.Glob(filepath.Join(tmp, "gpumon-sim-*-*"))
	for _, m := range matches {
		var pid int
		if _, err := fmt.Sscanf(filepath.Base(m), "gpumon-sim-%d-", &pid); err != nil || pid <= 0 || alive(pid) {
			continue
		}
		if fi, err := os.Lstat(m); err == nil && fi.IsDir() {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid == uint32(os.Geteuid()) {
				_ = os.RemoveAll(m)
			}
		}
	}
}

// waitFirstJobs waits, boundedly, until the jobs started so far run.
func (s *supervisor) waitFirstJobs() {
	deadline := time.Now().Add(firstJobsWait)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		pending := 0
		for _, r := range s.jobs {
			if !r.live && !r.ending {
				pending++
			}
		}
		s.mu.Unlock()
		if pending == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// loop starts and ends jobs every syncEvery and whenever a process exits.
func (s *supervisor) loop() {
	defer close(s.loopDone)
	t := time.NewTicker(syncEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.kick:
		}
		s.sync(s.now())
	}
}

func (s *supervisor) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// sync starts the jobs due at now and ends those whose time is up, whose
// processes did not start, or one of whose processes exited.
func (s *supervisor) sync(now time.Time) {
	for _, j := range s.sched.due(now) {
		s.launch(j, now)
	}
	var end []*running
	s.mu.Lock()
	for _, r := range s.jobs {
		if r.ending {
			continue
		}
		if !now.Before(r.job.End) || !r.live && time.Since(r.started) > startTimeout || r.anyGone() {
			end = append(end, r)
		}
	}
	s.mu.Unlock()
	for _, r := range end {
		s.end(r, now)
	}
}

func (r *running) anyGone() bool {
	for _, w := range r.procs {
		if w != nil && w.gone {
			return true
		}
	}
	return false
}

// launch starts job j's first process, in its session when it has one and
// the session's program is installed.
func (s *supervisor) launch(j Job, now time.Time) {
	s.mu.Lock()
	if s.closed || s.workers+len(j.Procs) > maxWorkers {
		full := !s.closed
		s.mu.Unlock()
		if full {
			s.log.Warn("simulated job not started", "job", j.ID, "reason", "too many simulated processes", "max", maxWorkers)
		}
		s.sched.EndJob(j.ID, now)
		return
	}
	r := &running{job: j, procs: make([]*worker, len(j.Procs)), started: time.Now()}
	s.jobs[j.ID] = r
	s.workers += len(j.Procs)
	s.mu.Unlock()
	top := j.Procs[0]
	sess, err := s.sessions.start(j.Session, s.bin, top, s.env(j.ID, 0, nil), s.dir)
	if err != nil && j.Session.Kind != "" {
		s.log.Warn("simulated job runs without its session", "job", j.ID, "session", j.Session.Kind, "err", err)
		sess, err = s.sessions.start(Session{}, s.bin, top, s.env(j.ID, 0, nil), s.dir)
	}
	if err == nil {
		s.mu.Lock()
		r.session = sess
		s.mu.Unlock()
		s.log.Debug("simulated job started", "job", j.ID, "kind", j.Kind, "gpus", j.GPUs, "session", sess.name)
		return
	}
	s.log.Warn("simulated job not started", "job", j.ID, "err", err)
	s.mu.Lock()
	delete(s.jobs, j.ID)
	s.workers -= len(j.Procs)
	s.mu.Unlock()
	s.sched.EndJob(j.ID, now)
}

// env is the environment of process i of job id: a plain one, the
// simulator's bin directory first in PATH, and the job's identity.
func (s *supervisor) env(id, i int, extra []string) []string {
	env := append(baseEnv(), "PATH="+s.bin+":"+stdPath, jobEnv+"="+s.addr+" "+strconv.Itoa(id)+" "+strconv.Itoa(i))
	return append(env, extra...)
}

// stdPath is the PATH simulated jobs see after the simulator's programs.
const stdPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// baseEnv is the environment of a login shell, without anything of the
// agent's own (its token must not reach the jobs or a tmux server). A
// SCREENDIR is kept: the simulator looks for its screen sessions there.
func baseEnv() []string {
	env := []string{"LANG=C.UTF-8", "TERM=xterm-256color"}
	for _, k := range []string{"HOME", "USER", "LOGNAME", "SHELL", "SCREENDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// end ends job r at now: the schedule frees its GPUs, its processes are
// told to exit (their connections close) and, in the background, killed if
// they linger; then its session is closed.
func (s *supervisor) end(r *running, now time.Time) {
	s.mu.Lock()
	if r.ending {
		s.mu.Unlock()
		return
	}
	r.ending = true
	var ws []*worker
	for _, w := range r.procs {
		if w != nil {
			ws = append(ws, w)
			_ = w.conn.Close()
		}
	}
	if first := r.procs[0]; first != nil && r.session.kind == "screen" {
		// Its parent, not a socket found by name (another agent on this
		// machine may have a session of the same name).
		r.session.screenPID = first.ppid
	}
	s.mu.Unlock()
	s.sched.EndJob(r.job.ID, now)
	s.log.Debug("simulated job ended", "job", r.job.ID, "kind", r.job.Kind, "gpus", r.job.GPUs)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		reap(ws)
		s.sessions.close(r.session)
		s.mu.Lock()
		delete(s.jobs, r.job.ID)
		s.workers -= len(r.procs)
		s.mu.Unlock()
	}()
}

// reap waits up to stopTimeout for ws to exit and kills those that do not.
func reap(ws []*worker) {
	deadline := time.Now().Add(stopTimeout)
	for _, w := range ws {
		for w.running() && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if w.running() {
			_ = syscall.Kill(w.pid, syscall.SIGKILL)
		}
	}
}

// close ends every job, waits for their processes to exit and removes the
// simulator's directory.
func (s *supervisor) close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.loopDone
		s.mu.Lock()
		s.closed = true
		var all []*running
		for _, r := range s.jobs {
			all = append(all, r)
		}
		s.mu.Unlock()
		_ = s.ln.Close()
		now := s.now()
		for _, r := range all {
			s.end(r, now)
		}
		s.wg.Wait()
		if err := os.RemoveAll(s.dir); err != nil {
			s.closeErr = fmt.Errorf("remove the simulator's directory: %w", err)
		}
	})
	return s.closeErr
}
