package sim

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// accept registers the processes that connect.
func (s *supervisor) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(c)
		}()
	}
}

// serve registers one process and waits until it exits (its connection
// closes) or the simulator closes the connection.
func (s *supervisor) serve(c *net.UnixConn) {
	defer c.Close()
	cred, err := peerCred(c)
	if err != nil || cred.Uid != s.uid {
		return // not a process of this agent's user: never a job of ours
	}
	_ = c.SetReadDeadline(time.Now().Add(startTimeout))
	line, err := bufio.NewReader(io.LimitReader(c, 64)).ReadString('\n')
	var id, i int
	if err == nil {
		_, err = fmt.Sscanf(line, "%d %d\n", &id, &i)
	}
	if err != nil {
		return
	}
	w, reply, live := s.register(id, i, int(cred.Pid), c)
	b, _ := json.Marshal(reply)
	if _, err := c.Write(append(b, '\n')); err != nil || w == nil {
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	if live != nil {
		s.sched.MarkLive(id, s.now(), live)
	}
	s.listen(c, id, i)
	s.mu.Lock()
	w.gone = true
	s.mu.Unlock()
	s.wake()
}

// listen reads what process i of job id says until its connection closes:
// "xid" lines (it got SIGUSR1) make its GPUs report a simulated Xid.
func (s *supervisor) listen(c io.Reader, id, i int) {
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 64), 64)
	for sc.Scan() {
		if sc.Text() != "xid" || s.xid == nil {
			continue
		}
		s.mu.Lock()
		var gpus []int
		if r := s.jobs[id]; r != nil && i < len(r.job.Procs) {
			if g := r.job.Procs[i].GPU; g >= 0 {
				gpus = []int{g}
			} else {
				gpus = append(gpus, r.job.GPUs...)
			}
		}
		s.mu.Unlock()
		s.log.Info("simulated xid", "job", id, "gpus", gpus, "xid", SimulatedXID)
		s.xid(gpus)
	}
	_, _ = io.Copy(io.Discard, c) // a line too long ends the scan: wait for the close
}

// register records pid as process i of job id. It returns the worker (nil
// when refused), the answer to send, and the job's PIDs when this process
// was the last to start.
func (s *supervisor) register(id, i, pid int, c net.Conn) (*worker, hello, []uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.jobs[id]
	switch {
	case r == nil || r.ending:
		return nil, hello{Error: fmt.Sprintf("job %d is not running", id)}, nil
	case i < 0 || i >= len(r.procs) || r.procs[i] != nil:
		return nil, hello{Error: fmt.Sprintf("job %d has no process %d waiting to start", id, i)}, nil
	}
	w := &worker{pid: pid, conn: c}
	if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
		if st, err := parseStat(b); err == nil {
			w.start, w.ppid = st.start, st.ppid
		}
	}
	r.procs[i] = w
	var reply hello
	for k, p := range r.job.Procs {
		if p.Parent == i {
			reply.Spawn = append(reply.Spawn, spawn{Path: filepath.Join(s.bin, p.Exe), Argv: p.Argv, Env: s.env(id, k, rankEnv(r.job, p))})
		}
	}
	pids := make([]uint32, len(r.procs))
	for k, o := range r.procs {
		if o == nil {
			return w, reply, nil
		}
		pids[k] = uint32(o.pid)
	}
	r.live = true
	return w, reply, pids
}

// rankEnv is what torchrun tells each process it starts.
func rankEnv(j Job, p Proc) []string {
	if p.GPU < 0 || p.Parent < 0 {
		return nil
	}
	rank := 0
	for k, g := range j.GPUs {
		if g == p.GPU {
			rank = k
		}
	}
	return []string{"LOCAL_RANK=" + strconv.Itoa(rank), "RANK=" + strconv.Itoa(rank),
		"WORLD_SIZE=" + strconv.Itoa(len(j.GPUs)), "MASTER_ADDR=127.0.0.1", "MASTER_PORT=29500"}
}

func peerCred(c *net.UnixConn) (*syscall.Ucred, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *syscall.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return nil, err
	}
	return cred, credErr
}
