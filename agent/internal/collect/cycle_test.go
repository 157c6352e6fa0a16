package collect_test

import (
	"context"
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/gpumon/gpumon/agent/internal/collect"
	"github.com/gpumon/gpumon/agent/internal/collect/docker"
	"github.com/gpumon/gpumon/agent/internal/collect/gpu"
	"github.com/gpumon/gpumon/agent/internal/collect/process"
	"github.com/gpumon/gpumon/agent/internal/collect/screen"
	"github.com/gpumon/gpumon/agent/internal/collect/system"
	"github.com/gpumon/gpumon/agent/internal/sim"
)

// BenchmarkCycle is one full collection cycle as gpumon-agent --simulate=dgxh100
// runs it: 8 simulated GPUs, and this machine's system, processes, sessions
// and containers. cpu-ms/op is the process's CPU time (all goroutines, GC
// included) per cycle.
func BenchmarkCycle(b *testing.B) {
	log := slog.New(slog.DiscardHandler)
	lib, err := sim.New("dgxh100", sim.WithSeed(1))
	if err != nil {
		b.Fatal(err)
	}
	g := gpu.New(lib, log)
	d := docker.New(log)
	defer func() { _ = d.Close(); _ = g.Close() }()
	r := collect.NewRunner(log, 0, g, system.New(log), process.New(log), screen.New(log), d)
	ctx := context.Background()
	r.Collect(ctx) // the first cycle reads what later ones cache
	b.ReportAllocs()
	before := cpuTime(b)
	for b.Loop() {
		r.Collect(ctx)
	}
	b.ReportMetric(float64(cpuTime(b)-before)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
