package process

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// session is a terminal session a process runs under.
type session struct {
	kind, name, user string
}

// maxDepth bounds the walk up the parent chain.
const maxDepth = 64

// roleOf tells screen and tmux servers from other processes. A screen
// server runs as "SCREEN ..." (the client as "screen ..."); a tmux server
// names itself "tmux: server".
func (c *Collector) roleOf(e *entry) role {
	switch {
	case e.comm == "tmux: server":
		return roleTmux
	case strings.EqualFold(e.comm, "screen"):
		arg0, _, _ := strings.Cut(e.cmdline, " ")
		if filepath.Base(arg0) == "SCREEN" || c.screenSocketName(e.pid) != "" {
			return roleScreen
		}
	}
	return roleNone
}

// resolveSession walks up from e to the nearest screen or tmux server and
// remembers the answer for the life of the process.
func (c *Collector) resolveSession(ctx context.Context, e *entry, depth int) *session {
	if e.sessionDone {
		return e.session
	}
	e.sessionDone = true
	if e.role == roleScreen {
		e.session = &session{kind: "screen", name: c.screenName(e), user: e.user}
		return e.session
	}
	parent := c.procs[e.ppid]
	if parent == nil || parent == e || parent.seen != c.gen || depth >= maxDepth {
		return nil
	}
	if parent.role == roleTmux {
		e.session = c.tmuxSession(ctx, e, parent)
	} else {
		e.session = c.resolveSession(ctx, parent, depth+1)
	}
	return e.session
}

// screenName is the session name of a screen server: the -S argument, else
// the name part of its socket "<pid>.<name>".
func (c *Collector) screenName(e *entry) string {
	if n := parseScreenName(e.cmdline); n != "" {
		return n
	}
	return c.screenSocketName(e.pid)
}

// parseScreenName returns the session name given with -S on a screen
// command line ("SCREEN -dmS train.v2 python train.py" → "train.v2"). Like
// screen, it takes the rest of the option cluster ("-Sname") or the next
// argument, and stops at the command to run.
func parseScreenName(cmdline string) string {
	args := strings.Fields(cmdline)
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a[0] != '-' {
			return "" // the command to run: options are over
		}
		if len(a) == 1 || a[1] == '-' {
			continue
		}
		for j := 1; j < len(a); j++ {
			if !strings.ContainsRune("cehpsST", rune(a[j])) {
				continue
			}
			// An option with an argument: the rest of the cluster or the next one.
			val := a[j+1:]
			if val == "" && i+1 < len(args) {
				i++
				val = args[i]
			}
			if a[j] == 'S' {
				return val
			}
			break
		}
	}
	return ""
}

// screenSocketName finds the socket "<pid>.<name>" of a screen server in
// the socket directories and returns <name>.
func (c *Collector) screenSocketName(pid int32) string {
	prefix := strconv.Itoa(int(pid)) + "."
	for _, dir := range []string{"run/screen", "var/run/screen", "tmp/screens", "tmp/uscreens"} {
		userDirs, _ := os.ReadDir(filepath.Join(c.hostRoot, dir))
		for _, ud := range userDirs {
			if !strings.HasPrefix(ud.Name(), "S-") {
				continue
			}
			socks, _ := os.ReadDir(filepath.Join(c.hostRoot, dir, ud.Name()))
			for _, s := range socks {
				if name, ok := strings.CutPrefix(s.Name(), prefix); ok {
					return strings.ToValidUTF8(name, "\uFFFD")
				}
			}
		}
	}
	return ""
}

// tmuxSession names the tmux session of pane, a direct child of the tmux
// server, from the TMUX variable in its environment.
func (c *Collector) tmuxSession(ctx context.Context, pane, server *entry) *session {
	s := &session{kind: "tmux", user: server.user}
	b, err := readInto(c.pidPath(pane.pid, "environ"), c.bigBuf)
	if err != nil {
		return s
	}
	socket, id, ok := parseTmuxEnv(b)
	if !ok {
		return s
	}
	if c.hostRoot != "/" && filepath.IsAbs(socket) {
		socket = filepath.Join(c.hostRoot, socket)
	}
	s.name = c.tmuxName(ctx, socket, id)
	return s
}

// parseTmuxEnv finds TMUX=<socket>,<server pid>,<session index> in a
// NUL-separated environment and returns the socket and the session id
// ("$<index>").
func parseTmuxEnv(environ []byte) (socket, id string, ok bool) {
	for kv := range bytes.SplitSeq(environ, []byte{0}) {
		v, found := bytes.CutPrefix(kv, []byte("TMUX="))
		if !found {
			continue
		}
		parts := strings.Split(string(v), ",")
		if len(parts) != 3 || parts[0] == "" {
			return "", "", false
		}
		if _, err := strconv.Atoi(parts[2]); err != nil {
			return "", "", false
		}
		return parts[0], "$" + parts[2], true
	}
	return "", "", false
}

// tmuxListTimeout bounds one `tmux list-sessions` call.
const tmuxListTimeout = time.Second

// tmuxNames is the cached session list of one tmux server.
type tmuxNames struct {
	names map[string]string
	gen   uint64 // scan in which it was listed
}

// tmuxName returns the name of session id on the server at socket, listing
// the server's sessions at most once per scan when the id is unknown.
func (c *Collector) tmuxName(ctx context.Context, socket, id string) string {
	cached, ok := c.tmuxSeen[socket]
	if n, found := cached.names[id]; found {
		return n
	}
	if ok && cached.gen == c.gen {
		return ""
	}
	names, err := c.tmux(ctx, socket)
	if err != nil {
		c.log.Debug("list tmux sessions", "socket", socket, "err", err)
	}
	c.tmuxSeen[socket] = tmuxNames{names: names, gen: c.gen}
	return names[id]
}

// execTmuxLister runs the tmux binary, if there is one.
func execTmuxLister() TmuxLister {
	return func(ctx context.Context, socket string) (map[string]string, error) {
		bin, err := exec.LookPath("tmux")
		if err != nil {
			return nil, fmt.Errorf("find tmux: %w", err)
		}
		ctx, cancel := context.WithTimeout(ctx, tmuxListTimeout)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, "-S", socket, "list-sessions",
			"-F", "#{session_id}\t#{session_name}").Output()
		if err != nil {
			return nil, fmt.Errorf("list sessions of tmux server %s: %w", socket, err)
		}
		return parseTmuxIDs(out), nil
	}
}

// parseTmuxIDs parses "<id>\t<name>" lines into id → name.
func parseTmuxIDs(out []byte) map[string]string {
	m := make(map[string]string)
	for line := range bytes.Lines(out) {
		id, name, ok := strings.Cut(strings.TrimRight(string(line), "\r\n"), "\t")
		if ok && strings.HasPrefix(id, "$") {
			m[id] = strings.ToValidUTF8(name, "\uFFFD")
		}
	}
	return m
}
