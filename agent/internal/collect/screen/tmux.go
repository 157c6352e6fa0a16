package screen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// tmuxTimeout bounds one tmux call.
const tmuxTimeout = time.Second

// listFormat asks tmux for the fields parseListSessions reads.
const listFormat = "#{session_id}\t#{session_name}\t#{session_attached}\t#{pid}"

// errNoTmux means the tmux binary is not installed.
var errNoTmux = errors.New("tmux binary not found")

// execTmux runs the tmux binary with a timeout.
func execTmux(ctx context.Context, socket string, args ...string) ([]byte, error) {
	bin, err := exec.LookPath("tmux")
	if err != nil {
		return nil, errNoTmux
	}
	ctx, cancel := context.WithTimeout(ctx, tmuxTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-S", socket}, args...)...)
	cmd.WaitDelay = tmuxTimeout
	return cmd.Output()
}

// tmuxSessions lists the sessions of every running tmux server. ok is false
// when no tmux server runs or tmux cannot be run.
func (c *Collector) tmuxSessions(ctx context.Context) (sessions []*gpumonv1.TerminalSession, ok bool, err error) {
	if c.tmux == nil {
		return nil, false, nil
	}
	servers := c.tmuxServers()
	if len(servers) == 0 {
		return []*gpumonv1.TerminalSession{}, false, nil
	}
	sessions = []*gpumonv1.TerminalSession{}
	var errs []error
	for _, srv := range servers {
		got, err := c.listServer(ctx, srv)
		if errors.Is(err, errNoTmux) {
			return sessions, false, nil
		}
		if err != nil {
			errs = append(errs, err)
		}
		sessions = append(sessions, got...)
	}
	return sessions, true, errors.Join(errs...)
}

// listServer lists the sessions of one server, trying its likely sockets
// until one answers for this server's pid.
func (c *Collector) listServer(ctx context.Context, srv tmuxServer) ([]*gpumonv1.TerminalSession, error) {
	var last error
	for _, socket := range srv.sockets(c.hostRoot) {
		out, err := c.tmux(ctx, socket, "list-sessions", "-F", listFormat)
		if errors.Is(err, errNoTmux) {
			return nil, err
		}
		if err != nil {
			last = err
			continue
		}
		got := parseListSessions(out, c.users.Name(srv.uid))
		if len(got) > 0 && got[0].Pid != strconv.Itoa(srv.pid) {
			continue // another server of the same user
		}
		return got, nil
	}
	if last == nil {
		return nil, nil
	}
	return nil, fmt.Errorf("list sessions of tmux server %d: %w", srv.pid, last)
}

// parseListSessions parses `tmux list-sessions -F listFormat` output.
func parseListSessions(out []byte, user string) []*gpumonv1.TerminalSession {
	var sessions []*gpumonv1.TerminalSession
	for line := range bytes.Lines(out) {
		f := strings.Split(strings.TrimRight(string(line), "\r\n"), "\t")
		if len(f) != 4 || !strings.HasPrefix(f[0], "$") {
			continue
		}
		clients, _ := strconv.ParseUint(f[2], 10, 32)
		pid, _ := strconv.Atoi(f[3])
		status := "Detached"
		if clients > 0 {
			status = "Attached"
		}
		name := strings.ToValidUTF8(f[1], "\uFFFD")
		if name == "" {
			continue
		}
		sessions = append(sessions, session("tmux", pid, name, status, user, uint32(clients)))
	}
	return sessions
}

// tmuxServer is one running tmux server process.
type tmuxServer struct {
	pid     int
	uid     uint32
	cmdline []string
	tmpDir  string // TMUX_TMPDIR of the server, or /tmp
}

// tmuxRecheck is how many scans a process not named like tmux is taken
// for one without reading its name again. A tmux server is a new process
// (forked by the tmux client), found on the first scan that lists it; only
// one that becomes a server in place (a shell that runs exec tmux -D) is
// found this many scans late at most.
const tmuxRecheck = 15

// otherProc is a process whose name was not tmux's when last read.
type otherProc struct {
	read, listed uint64 // the scans that last read its name and listed it
}

// tmuxServers finds the processes named "tmux: server". Reading every
// process's name on every scan was a third of an agent's CPU; a process
// named otherwise is read again only every tmuxRecheck scans.
func (c *Collector) tmuxServers() []tmuxServer {
	dirs, err := os.ReadDir(c.procRoot)
	if err != nil {
		return nil
	}
	c.scans++
	if c.others == nil {
		c.others = map[int]otherProc{}
	}
	var servers []tmuxServer
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		if o, ok := c.others[pid]; ok && c.scans-o.read < tmuxRecheck {
			o.listed = c.scans
			c.others[pid] = o
			continue
		}
		dir := filepath.Join(c.procRoot, d.Name())
		comm, err := os.ReadFile(filepath.Join(dir, "comm"))
		if err != nil {
			delete(c.others, pid)
			continue
		}
		if name := string(bytes.TrimSpace(comm)); name != "tmux: server" {
			if strings.HasPrefix(name, "tmux") {
				delete(c.others, pid) // a client, or a server on its way
			} else {
				c.others[pid] = otherProc{read: c.scans, listed: c.scans}
			}
			continue
		}
		delete(c.others, pid)
		srv := tmuxServer{pid: pid, tmpDir: "/tmp"}
		if fi, err := os.Stat(dir); err == nil {
			srv.uid = ownerUID(fi)
		}
		if b, err := os.ReadFile(filepath.Join(dir, "cmdline")); err == nil {
			srv.cmdline = strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		}
		if b, err := os.ReadFile(filepath.Join(dir, "environ")); err == nil {
			if v := envValue(b, "TMUX_TMPDIR"); v != "" {
				srv.tmpDir = v
			}
		}
		servers = append(servers, srv)
	}
	for pid, o := range c.others {
		if o.listed != c.scans {
			delete(c.others, pid) // ended; its PID may come back as another process
		}
	}
	return servers
}

// sockets returns the sockets the server may listen on, most likely first:
// the one its command line names (-S path, -L name) or "default", then
// every other socket in its tmux-<uid> directory.
func (s tmuxServer) sockets(hostRoot string) []string {
	dir := filepath.Join(hostRoot, s.tmpDir, "tmux-"+strconv.FormatUint(uint64(s.uid), 10))
	first := filepath.Join(dir, "default")
	for i := 1; i+1 < len(s.cmdline); i++ {
		switch s.cmdline[i] {
		case "-S":
			first = filepath.Join(hostRoot, s.cmdline[i+1])
		case "-L":
			first = filepath.Join(dir, s.cmdline[i+1])
		}
	}
	out := []string{first}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if p := filepath.Join(dir, e.Name()); p != first && e.Type()&os.ModeSocket != 0 {
			out = append(out, p)
		}
	}
	return out
}

// envValue returns the value of key in a NUL-separated environment.
func envValue(environ []byte, key string) string {
	for kv := range bytes.SplitSeq(environ, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte(key+"=")); ok {
			return string(v)
		}
	}
	return ""
}
