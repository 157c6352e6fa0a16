// Package system collects machine-level figures with gopsutil: CPU, load,
// memory, swap, disks, primary IP address, uptime and static facts (OS,
// kernel, CPU model and core count).
package system

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/shirou/gopsutil/v4/common"
	"github.com/shirou/gopsutil/v4/host"
	"github.com/shirou/gopsutil/v4/load"
	"github.com/shirou/gopsutil/v4/mem"

	"github.com/gpumon/gpumon/agent/internal/collect"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// Option configures a Collector.
type Option func(*Collector)

// WithProcRoot sets the procfs mount gopsutil and the route lookup read
// (default $HOST_PROC, else /proc).
func WithProcRoot(dir string) Option { return func(c *Collector) { c.procRoot = dir } }

// WithEtcRoot sets the directory os-release is read from (default
// $HOST_ETC, else "etc" next to the proc root: /etc, or /host/etc when the
// proc root is /host/proc).
func WithEtcRoot(dir string) Option { return func(c *Collector) { c.etcRoot = dir } }

// WithRootPath sets the path whose filesystem is reported as the root disk
// (default "/"; "/host" when the host's / is mounted there).
func WithRootPath(path string) Option { return func(c *Collector) { c.rootPath = path } }

// WithDisks adds mount points to report in disks, after the root.
func WithDisks(paths ...string) Option {
	return func(c *Collector) { c.disks = append(c.disks, paths...) }
}

// Collector is the "system" collector.
//
// CPU percent is the busy share of all cores between this call and the
// previous one. The first call measures a short window (firstWindow) so its
// figure is real too; that is the only time Collect waits.
type Collector struct {
	log      *slog.Logger
	procRoot string
	etcRoot  string
	rootPath string
	disks    []string
	ifaces   func() ([]iface, error)

	cpu     cpuState
	static  staticFacts
	devices deviceCache
}

// New returns a system collector.
func New(log *slog.Logger, opts ...Option) *Collector {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Collector{
		log:      log,
		procRoot: envOr("HOST_PROC", "/proc"),
		etcRoot:  os.Getenv("HOST_ETC"),
		rootPath: "/",
		ifaces:   systemInterfaces,
	}
	for _, o := range opts {
		o(c)
	}
	if c.etcRoot == "" {
		c.etcRoot = filepath.Join(filepath.Dir(filepath.Clean(c.procRoot)), "etc")
	}
	return c
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// Name implements collect.Collector.
func (c *Collector) Name() string { return "system" }

var _ collect.Collector = (*Collector)(nil)

// Collect fills s.System. A figure that cannot be read is left zero and
// reported in the returned error; the others are still filled.
func (c *Collector) Collect(ctx context.Context, s *collect.Sample) error {
	ctx = context.WithValue(ctx, common.EnvKey, common.EnvMap{
		common.HostProcEnvKey: c.procRoot,
		common.HostEtcEnvKey:  c.etcRoot,
	})
	info := &gpumonv1.SystemInfo{}
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(c.collectCPU(ctx, info))
	add(c.collectMemory(ctx, info))
	add(c.collectDisks(ctx, info))
	add(c.collectIP(info))
	if avg, err := load.AvgWithContext(ctx); err != nil {
		add(fmt.Errorf("read load average: %w", err))
	} else {
		info.Load = &gpumonv1.LoadAverage{Load1: avg.Load1, Load5: avg.Load5, Load15: avg.Load15}
	}
	if up, err := host.UptimeWithContext(ctx); err != nil {
		add(fmt.Errorf("read uptime: %w", err))
	} else {
		info.UptimeSeconds = float64(up)
	}
	c.static.fill(ctx, c, info)
	s.System = info
	return errors.Join(errs...)
}

// collectMemory reads memory and swap.
func (c *Collector) collectMemory(ctx context.Context, info *gpumonv1.SystemInfo) error {
	vm, err := mem.VirtualMemoryWithContext(ctx)
	if err != nil {
		return fmt.Errorf("read memory: %w", err)
	}
	info.MemoryTotal = float64(vm.Total)
	info.MemoryUsed = float64(vm.Used)
	info.MemoryAvailable = float64(vm.Available)
	info.MemoryPercent = vm.UsedPercent
	// From the same meminfo read (SwapMemory would ask the kernel of the
	// agent's own view and read vmstat besides).
	info.SwapTotal = float64(vm.SwapTotal)
	info.SwapUsed = float64(vm.SwapTotal - min(vm.SwapFree, vm.SwapTotal))
	return nil
}

// osReleasePath is where the OS's pretty name is read from.
func (c *Collector) osReleasePath() string { return filepath.Join(c.etcRoot, "os-release") }
