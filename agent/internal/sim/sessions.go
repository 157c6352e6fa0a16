package sim

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// sessionTimeout bounds one screen or tmux call.
const sessionTimeout = 5 * time.Second

// sessionTools are the paths of screen and tmux, "" where not installed.
type sessionTools struct{ screen, tmux string }

func findSessionTools() sessionTools {
	var t sessionTools
	t.screen, _ = exec.LookPath("screen")
	t.tmux, _ = exec.LookPath("tmux")
	return t
}

// startedSession is how a job was started: in a screen session (pid of its
// server and name), a tmux session (id and name), or as a child.
type startedSession struct {
	kind, name string
	// screenPID is the screen server's PID; tmuxID the session's "$N".
	screenPID int
	tmuxID    string
	// child is a job started without a session; exited closes when the
	// agent has reaped it.
	child  *os.Process
	exited chan struct{}
}

// start starts p, the first process of a job, in a session like want when
// the session's program is installed, else as a child of the agent in its
// own process group.
func (t sessionTools) start(want Session, bin string, p Proc, env []string, dir string) (startedSession, error) {
	switch {
	case want.Kind == "screen" && t.screen != "":
		return t.startScreen(want.Name, p, env, dir)
	case want.Kind == "tmux" && t.tmux != "":
		return t.startTmux(want.Name, p, env, dir)
	}
	c := &exec.Cmd{Path: filepath.Join(bin, p.Exe), Args: p.Argv, Env: env, Dir: dir,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}}
	if err := c.Start(); err != nil {
		return startedSession{}, fmt.Errorf("start %s: %w", p.Exe, err)
	}
	exited := make(chan struct{})
	go func() { _ = c.Wait(); close(exited) }()
	return startedSession{child: c.Process, exited: exited}, nil
}

// startScreen runs `screen -dmS NAME ARGV…` with a name no screen session
// of this user has yet, and finds the new session's server.
func (t sessionTools) startScreen(base string, p Proc, env []string, dir string) (startedSession, error) {
	sockets := screenDir()
	name := base
	for i := 2; sockets != "" && screenPID(sockets, name) != 0; i++ {
		name = base + "-" + strconv.Itoa(i)
	}
	if _, err := t.run(t.screen, env, dir, append([]string{"-dmS", name}, p.Argv...)...); err != nil {
		return startedSession{}, err
	}
	if sockets == "" {
		sockets = screenDir()
	}
	return startedSession{kind: "screen", name: name, screenPID: screenPID(sockets, name)}, nil
}

// screenDir is the directory of this user's screen sockets, "" when there
// is none yet.
func screenDir() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if d := os.Getenv("SCREENDIR"); d != "" {
		return d
	}
	for _, d := range []string{"/run/screen", "/var/run/screen", "/tmp/screens", "/tmp/uscreens"} {
		if dir := filepath.Join(d, "S-"+name); isDir(dir) {
			return dir
		}
	}
	return ""
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// screenPID finds the socket "<pid>.<name>" in dir and returns pid, 0 when
// there is none.
func screenPID(dir, name string) int {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if pid, rest, ok := strings.Cut(e.Name(), "."); ok && rest == name {
			if n, err := strconv.Atoi(pid); err == nil {
				return n
			}
		}
	}
	return 0
}

// startTmux runs the job in a new detached session of the user's tmux
// server. tmux finds a pane's program with the server's PATH, so the
// program is started through env(1) with the job's environment: the
// session (and a server this call starts) keep a plain environment, and a
// user who opens a window there gets their own programs.
func (t sessionTools) startTmux(base string, p Proc, env []string, dir string) (startedSession, error) {
	envBin, err := exec.LookPath("env")
	if err != nil {
		return startedSession{}, fmt.Errorf("tmux: find env: %w", err)
	}
	plain := append(baseEnv(), "PATH="+stdPath)
	for i := 1; i < 10; i++ {
		name := base
		if i > 1 {
			name += "-" + strconv.Itoa(i)
		}
		args := append([]string{"new-session", "-d", "-P", "-F", "#{session_id}", "-c", dir, "-s", name, "--", envBin}, env...)
		out, err := t.run(t.tmux, plain, "/", append(args, p.Argv...)...)
		if err == nil {
			return startedSession{kind: "tmux", name: name, tmuxID: strings.TrimSpace(string(out))}, nil
		}
		if !strings.Contains(err.Error(), "duplicate session") {
			return startedSession{}, err
		}
	}
	return startedSession{}, fmt.Errorf("tmux: no free session name like %q", base)
}

// run runs a session program and returns its output; the error carries
// what it printed.
func (t sessionTools) run(bin string, env []string, dir string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), sessionTimeout)
	defer cancel()
	c := exec.CommandContext(ctx, bin, args...)
	c.Env, c.Dir = env, dir
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w: %s", filepath.Base(bin), args[0], err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, nil
}

// close ends the session a job ran in, when it is still there (it usually
// ended with the job's process), or reaps the job's child process, killing
// it if it has not exited by now.
func (t sessionTools) close(s startedSession) {
	plain := append(baseEnv(), "PATH="+stdPath)
	switch {
	case s.child != nil:
		select {
		case <-s.exited:
		case <-time.After(time.Second):
			_ = s.child.Kill()
			<-s.exited
		}
	case s.kind == "screen" && s.screenPID != 0 && alive(s.screenPID):
		_, _ = t.run(t.screen, plain, "/", "-S", strconv.Itoa(s.screenPID)+"."+s.name, "-X", "quit")
	case s.kind == "tmux" && s.tmuxID != "":
		// Only this session: same id and name (ids restart with a new server).
		out, err := t.run(t.tmux, plain, "/", "list-sessions", "-F", "#{session_id} #{session_name}")
		if err == nil && bytes.Contains(append([]byte("\n"), out...), []byte("\n"+s.tmuxID+" "+s.name+"\n")) {
			_, _ = t.run(t.tmux, plain, "/", "kill-session", "-t", s.tmuxID)
		}
	}
}
