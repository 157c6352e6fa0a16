package system

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/host"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// firstWindow is how long the first call measures CPU use.
const firstWindow = 100 * time.Millisecond

// cpuState keeps the CPU times of the previous call.
type cpuState struct {
	prev cpu.TimesStat
	have bool
}

// collectCPU computes the busy percent of all cores since the last call.
func (c *Collector) collectCPU(ctx context.Context, info *gpumonv1.SystemInfo) error {
	if !c.cpu.have {
		t, err := readCPUTimes(ctx)
		if err != nil {
			return err
		}
		c.cpu.prev, c.cpu.have = t, true
		select {
		case <-time.After(firstWindow):
		case <-ctx.Done():
			return fmt.Errorf("measure cpu: %w", ctx.Err())
		}
	}
	t, err := readCPUTimes(ctx)
	if err != nil {
		return err
	}
	info.CpuPercent = busyPercent(c.cpu.prev, t)
	c.cpu.prev = t
	return nil
}

func readCPUTimes(ctx context.Context) (cpu.TimesStat, error) {
	ts, err := cpu.TimesWithContext(ctx, false)
	if err != nil {
		return cpu.TimesStat{}, fmt.Errorf("read cpu times: %w", err)
	}
	if len(ts) == 0 {
		return cpu.TimesStat{}, fmt.Errorf("read cpu times: no cpu line")
	}
	return ts[0], nil
}

// busyPercent is the share of time spent not idle between two readings of
// the summed CPU times, as top and psutil count it (guest time is already
// inside user time; iowait counts as idle).
func busyPercent(a, b cpu.TimesStat) float64 {
	total := func(t cpu.TimesStat) float64 {
		return t.User + t.System + t.Idle + t.Nice + t.Iowait + t.Irq + t.Softirq + t.Steal
	}
	idle := func(t cpu.TimesStat) float64 { return t.Idle + t.Iowait }
	dt := total(b) - total(a)
	if dt <= 0 {
		return 0
	}
	busy := dt - (idle(b) - idle(a))
	return min(max(busy/dt*100, 0), 100)
}

// staticFacts are read on the first call and kept: they do not change
// while the agent runs (a missing one stays missing).
type staticFacts struct {
	read              bool
	os, kernel, model string
	cores             uint32
}

// fill copies the static facts into info, reading them the first time.
func (f *staticFacts) fill(ctx context.Context, c *Collector, info *gpumonv1.SystemInfo) {
	if !f.read {
		f.read = true
		if b, err := os.ReadFile(c.osReleasePath()); err == nil {
			f.os = parseOSRelease(b)
		}
		if f.os == "" {
			f.os = "Linux"
		}
		f.kernel, _ = host.KernelVersionWithContext(ctx)
		if cs, err := cpu.InfoWithContext(ctx); err == nil && len(cs) > 0 {
			f.model = cs[0].ModelName
		}
		// Logical CPUs, as the original report counted them.
		if n, err := cpu.CountsWithContext(ctx, true); err == nil && n > 0 {
			f.cores = uint32(n)
		}
	}
	info.Os, info.Kernel, info.CpuModel, info.CpuCores = f.os, f.kernel, f.model, f.cores
}
