// Package screen collects the screen and tmux sessions of every user.
//
// screen sessions come from the socket directories (/run/screen/S-<user>/
// holds one socket "<pid>.<name>" per session), so no `screen -ls` is run
// per user. tmux sessions come from `tmux -S <socket> list-sessions` for
// every socket of a running tmux server, when the tmux binary is present.
package screen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"

	"github.com/gpumon/gpumon/agent/internal/collect"
	"github.com/gpumon/gpumon/agent/internal/passwd"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// TmuxRunner runs `tmux -S socket args...` and returns its standard output.
type TmuxRunner func(ctx context.Context, socket string, args ...string) ([]byte, error)

// Option configures a Collector.
type Option func(*Collector)

// WithHostRoot sets the directory the host's / is visible at (default: the
// parent of the proc root). Screen and tmux socket directories and
// /etc/passwd are looked up under it.
func WithHostRoot(dir string) Option { return func(c *Collector) { c.hostRoot = dir } }

// WithProcRoot sets the procfs mount used to tell live sessions from dead
// ones and to find tmux servers (default $HOST_PROC, else /proc).
func WithProcRoot(dir string) Option { return func(c *Collector) { c.procRoot = dir } }

// WithScreenDirs replaces the screen socket directories (default
// run/screen, var/run/screen and tmp/screens under the host root). Each
// holds one S-<user> directory per user.
func WithScreenDirs(dirs ...string) Option {
	return func(c *Collector) { c.screenDirs = append([]string{}, dirs...) }
}

// WithTmuxRunner replaces the call of the tmux binary. A nil runner turns
// tmux off.
func WithTmuxRunner(r TmuxRunner) Option {
	return func(c *Collector) { c.tmux, c.tmuxSet = r, true }
}

// Collector is the "screen" collector.
type Collector struct {
	log        *slog.Logger
	hostRoot   string
	procRoot   string
	screenDirs []string
	tmux       TmuxRunner
	tmuxSet    bool
	users      *passwd.Users
	// scans counts tmuxServers' scans of the processes; others are the
	// processes not named like tmux when last read (the Runner runs one
	// Collect at a time).
	scans  uint64
	others map[int]otherProc
}

// New returns a screen/tmux collector.
func New(log *slog.Logger, opts ...Option) *Collector {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Collector{log: log, procRoot: os.Getenv("HOST_PROC")}
	if c.procRoot == "" {
		c.procRoot = "/proc"
	}
	for _, o := range opts {
		o(c)
	}
	if c.hostRoot == "" {
		c.hostRoot = filepath.Dir(filepath.Clean(c.procRoot))
	}
	if c.screenDirs == nil {
		for _, d := range []string{"run/screen", "var/run/screen", "tmp/screens"} {
			c.screenDirs = append(c.screenDirs, filepath.Join(c.hostRoot, d))
		}
	}
	if !c.tmuxSet {
		c.tmux = execTmux
	}
	c.users = passwd.NewUsers(filepath.Join(c.hostRoot, "etc", "passwd"), c.hostRoot == "/")
	return c
}

// Name implements collect.Collector.
func (c *Collector) Name() string { return "screen" }

var _ collect.Collector = (*Collector)(nil)

// Collect fills s.ScreenSessions and s.TmuxSessions.
func (c *Collector) Collect(ctx context.Context, s *collect.Sample) error {
	screens, haveScreen := c.screenSessions()
	tmuxes, haveTmux, err := c.tmuxSessions(ctx)
	s.ScreenSessions = screens
	s.TmuxSessions = tmuxes
	if !haveScreen && !haveTmux {
		return fmt.Errorf("no screen socket directory and no tmux server: %w", collect.ErrUnavailable)
	}
	return err
}

// alive reports whether a process with this pid exists.
func (c *Collector) alive(pid int) bool {
	_, err := os.Stat(filepath.Join(c.procRoot, strconv.Itoa(pid)))
	return err == nil || !errors.Is(err, os.ErrNotExist)
}

// session builds one report entry.
func session(kind string, pid int, name, status, user string, clients uint32) *gpumonv1.TerminalSession {
	return &gpumonv1.TerminalSession{
		Pid:             strconv.Itoa(pid),
		Name:            name,
		Status:          status,
		User:            user,
		Kind:            kind,
		AttachedClients: clients,
	}
}
