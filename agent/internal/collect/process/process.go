// Package process collects every process of the machine from procfs.
//
// The scan is the agent's hot path, so it reads only /proc/<pid>/stat for a
// process it already knows (state, parent, CPU times, RSS all live there)
// and keeps what does not change for a (pid, start time) pair — command
// line, user, container id, terminal session — read once when the process
// is first seen. CPU percentages are deltas of utime+stime between two
// calls of Collect.
package process

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gpumon/gpumon/agent/internal/collect"
	"github.com/gpumon/gpumon/agent/internal/passwd"
	"github.com/gpumon/gpumon/common/redact"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// clockTicks is USER_HZ, the unit of the times in /proc/<pid>/stat. It is
// 100 on every Linux architecture the agent runs on.
const clockTicks = 100

// maxCmdline caps the length of a command line, in bytes.
const maxCmdline = 4096

// TmuxLister lists the sessions of the tmux server listening on socket as
// session id ("$3") → session name.
type TmuxLister func(ctx context.Context, socket string) (map[string]string, error)

// Option configures a Collector.
type Option func(*Collector)

// WithProcRoot sets the procfs mount to read (default $HOST_PROC, else
// /proc). The host root defaults to its parent directory.
func WithProcRoot(dir string) Option { return func(c *Collector) { c.root = dir } }

// WithHostRoot sets the directory the host's / is visible at, used for
// /etc/passwd, screen socket directories and tmux sockets (default: the
// parent of the proc root).
func WithHostRoot(dir string) Option { return func(c *Collector) { c.hostRoot = dir } }

// WithRedactor sets what hides secrets in command lines (default: the
// values of secret-looking flags and assignments; see common/redact).
func WithRedactor(r *redact.Redactor) Option { return func(c *Collector) { c.redact = r } }

// WithTmuxLister replaces the default `tmux list-sessions` call used to name
// tmux sessions.
func WithTmuxLister(l TmuxLister) Option { return func(c *Collector) { c.tmux = l } }

// Collector is the "process" collector. Calls of Collect must not overlap.
type Collector struct {
	log      *slog.Logger
	root     string
	hostRoot string
	redact   *redact.Redactor
	tmux     TmuxLister
	now      func() time.Time

	users    *passwd.Users
	pageSize uint64
	procs    map[int32]*entry
	gen      uint64
	last     time.Time // time of the previous scan; zero before the first
	bootAt   uint64    // boot time, epoch seconds

	lister   pidLister
	pids     []int32
	ents     []*entry
	statBuf  []byte
	bigBuf   []byte
	tmuxSeen map[string]tmuxNames
}

// New returns a process collector.
func New(log *slog.Logger, opts ...Option) *Collector {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Collector{
		log:      log,
		root:     os.Getenv("HOST_PROC"),
		now:      time.Now,
		pageSize: uint64(os.Getpagesize()),
		procs:    make(map[int32]*entry),
		statBuf:  make([]byte, 4096),
		tmuxSeen: make(map[string]tmuxNames),
	}
	if c.root == "" {
		c.root = "/proc"
	}
	for _, o := range opts {
		o(c)
	}
	if c.hostRoot == "" {
		c.hostRoot = filepath.Dir(filepath.Clean(c.root))
	}
	if c.tmux == nil {
		c.tmux = execTmuxLister()
	}
	c.users = passwd.NewUsers(filepath.Join(c.hostRoot, "etc", "passwd"), c.hostRoot == "/")
	c.bigBuf = make([]byte, max(maxCmdline+1, 64<<10))
	return c
}

// Name implements collect.Collector.
func (c *Collector) Name() string { return "process" }

var _ collect.Collector = (*Collector)(nil)

// Collect fills s.Processes with every process.
func (c *Collector) Collect(ctx context.Context, s *collect.Sample) error {
	if err := c.prepare(); err != nil {
		return err
	}
	pids, err := c.lister.list(c.root, c.pids[:0])
	if err != nil {
		return err
	}
	c.pids = pids
	now := c.now()
	memTotal := c.memTotal()
	c.gen++
	slab := make([]gpumonv1.Process, len(pids))
	out := make([]*gpumonv1.Process, 0, len(pids))
	c.ents = c.ents[:0]
	var firstErr error
	for i, pid := range pids {
		if i%64 == 0 && ctx.Err() != nil {
			return fmt.Errorf("scan processes: %w", ctx.Err())
		}
		e, err := c.sample(pid, now)
		if err != nil {
			// Gone meanwhile, or hidden from us (hidepid): skip it quietly.
			if firstErr == nil && !gone(err) && !errors.Is(err, fs.ErrPermission) {
				firstErr = err
			}
			continue
		}
		p := &slab[len(out)]
		e.fill(p, memTotal)
		out = append(out, p)
		c.ents = append(c.ents, e)
	}
	c.prune()
	for i, e := range c.ents {
		if ss := c.resolveSession(ctx, e, 0); ss != nil {
			out[i].Session = &gpumonv1.SessionRef{Kind: ss.kind, Name: ss.name, User: ss.user}
		}
	}
	c.last = now
	s.Processes = out
	return firstErr
}

// prepare reads the boot time once.
func (c *Collector) prepare() error {
	if c.bootAt != 0 {
		return nil
	}
	path := filepath.Join(c.root, "stat")
	b, err := readInto(path, c.bigBuf)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	c.bootAt, err = parseBootTime(b)
	if err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}

// memTotal returns the machine's memory in bytes, 0 when unknown.
func (c *Collector) memTotal() uint64 {
	b, err := readInto(filepath.Join(c.root, "meminfo"), c.bigBuf)
	if err != nil {
		return 0
	}
	v, _ := parseMemTotal(b)
	return v
}

// prune forgets processes not seen in this scan.
func (c *Collector) prune() {
	for pid, e := range c.procs {
		if e.seen != c.gen {
			delete(c.procs, pid)
		}
	}
}

func (c *Collector) pidPath(pid int32, file string) string {
	return c.root + "/" + strconv.Itoa(int(pid)) + "/" + file
}
