package app

import (
	"hash/fnv"
	"path/filepath"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/gpumon/gpumon/agent/internal/collect"
	"github.com/gpumon/gpumon/agent/internal/collect/docker"
	"github.com/gpumon/gpumon/agent/internal/collect/gpu"
	"github.com/gpumon/gpumon/agent/internal/collect/process"
	"github.com/gpumon/gpumon/agent/internal/collect/screen"
	"github.com/gpumon/gpumon/agent/internal/collect/system"
	"github.com/gpumon/gpumon/agent/internal/sim"
	"github.com/gpumon/gpumon/common/redact"
)

// collectors builds the collectors and returns a runner for them and a
// function that releases them.
func (c *Config) collectors() (*collect.Runner, func(), error) {
	var lib nvml.Interface
	closeSim := func() error { return nil }
	if c.Simulate != "" {
		// Seeded by hostname: simulated machines run different jobs, each
		// a real process of its own (see package sim) unless the processes
		// read under --host-root are numbered in another PID namespace.
		opts := []sim.Option{sim.WithSeed(seed(c.Hostname))}
		if procRoot := filepath.Join(c.HostRoot, "proc"); c.HostRoot == "" || c.HostRoot == "/" || sim.SamePIDs(procRoot) {
			opts = append(opts, sim.WithWorkers(c.Log))
		} else {
			c.Log.Warn("simulated jobs run without processes: the PIDs under --host-root are another PID namespace's", "proc", procRoot)
		}
		m, err := sim.New(c.Simulate, opts...)
		if err != nil {
			return nil, nil, err
		}
		lib, closeSim = m, m.Close
	} else {
		lib = nvml.New()
	}
	g := gpu.New(lib, c.Log, gpu.WithXIDEvents())
	var dockerOpts []docker.Option
	if c.DockerInterval > 0 {
		dockerOpts = append(dockerOpts, docker.WithStatsInterval(c.DockerInterval))
	}
	d := docker.New(c.Log, dockerOpts...)
	closeAll := func() {
		_ = d.Close()
		_ = g.Close()
		if err := closeSim(); err != nil {
			c.Log.Warn("stop simulated jobs", "err", err)
		}
	}
	sysOpts := []system.Option{system.WithDisks(c.Disks...)}
	// The agent's own token never appears in a command line it reports.
	procOpts := []process.Option{process.WithRedactor(redact.New(c.Token))}
	var screenOpts []screen.Option
	if root := c.HostRoot; root != "" && root != "/" {
		sysOpts = append(sysOpts, system.WithProcRoot(filepath.Join(root, "proc")), system.WithEtcRoot(filepath.Join(root, "etc")), system.WithRootPath(root))
		procOpts = append(procOpts, process.WithProcRoot(filepath.Join(root, "proc")), process.WithHostRoot(root))
		screenOpts = append(screenOpts, screen.WithProcRoot(filepath.Join(root, "proc")), screen.WithHostRoot(root))
	}
	return collect.NewRunner(c.Log, 0,
		g,
		system.New(c.Log, sysOpts...),
		process.New(c.Log, procOpts...),
		screen.New(c.Log, screenOpts...),
		d,
	), closeAll, nil
}

func seed(hostname string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(hostname))
	return h.Sum64()
}
