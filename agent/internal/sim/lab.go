package sim

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"
)

// Lab is a simulated machine's jobs and GPU figures without the NVML
// library around them: what the load generator reports for each of its
// machines, at a fraction of a Machine's memory.
type Lab struct {
	model *model
	gpus  []GPUInfo
}

// GPUInfo is what does not change about a simulated GPU.
type GPUInfo struct {
	Name, UUID  string
	MemoryMiB   uint64
	PowerLimitW float64
	// MIG: the GPU runs in MIG mode and reports no utilisation.
	MIG bool
}

// Reading is one GPU's figures at one moment.
type Reading struct {
	// Utilization is in percent, nil in MIG mode.
	Utilization *uint32
	Temperature uint32
	MemoryMiB   uint64
	PowerW      float64
	Processes   []ProcessReading
}

// ProcessReading is one process on a GPU.
type ProcessReading struct {
	PID       uint32
	MemoryMiB uint64
	// SM is the process's SM utilisation in percent (compute only).
	SM       uint32
	Graphics bool
}

// NewLab builds a simulated machine's jobs and figures from a profile (see
// Profiles). WithWorkers is ignored: a Lab starts no process.
func NewLab(profile string, opts ...Option) (*Lab, error) {
	l, _, err := newLab(profile, opts)
	return l, err
}

// newLab builds a Lab and the mock server its GPUs come from.
func newLab(profile string, opts []Option) (*Lab, *server.Server, error) {
	p, ok := profiles[profile]
	if !ok {
		return nil, nil, fmt.Errorf("unknown simulation profile %q (valid: %s)",
			profile, strings.Join(Profiles(), ", "))
	}
	c := config{seed: DefaultSeed, now: time.Now}
	for _, o := range opts {
		o(&c)
	}
	srv := p.build()
	start := c.now()
	n := len(srv.Devices)
	sched := newSchedule(c.seed, n, p.spec.consumer, start, scheduleConfig{
		live: c.workers != nil, fakePIDs: c.fakePIDs, users: c.users, home: homeDir(c.users),
	})
	l := &Lab{model: &model{spec: p.spec, seed: c.seed, n: n, start: start, sched: sched}}
	for i, d := range srv.Devices {
		dev := d.(*server.Device)
		l.gpus = append(l.gpus, GPUInfo{Name: dev.Config.Name, UUID: l.model.uuid(i), MemoryMiB: dev.Config.MemoryMB,
			PowerLimitW: p.spec.limitWatts, MIG: i == p.spec.migGPU})
	}
	return l, srv, nil
}

// GPUs describes the machine's GPUs, by index.
func (l *Lab) GPUs() []GPUInfo { return l.gpus }

// Jobs returns the jobs running at t, oldest first.
func (l *Lab) Jobs(t time.Time) []Job { return l.model.sched.Running(t) }

// Target is the share of its GPUs the machine's users try to keep busy,
// drawn from the seed.
func (l *Lab) Target() float64 { return l.model.sched.Target() }

// Read returns GPU g's figures at t, as the NVML library of a Machine
// reports them.
func (l *Lab) Read(g int, t time.Time) Reading {
	m, info := l.model, l.gpus[g]
	r := Reading{
		Temperature: uint32(math.Round(m.temperature(g, t))),
		MemoryMiB:   m.memory(g, t, info.MemoryMiB).Used >> 20,
		PowerW:      m.power(g, t),
	}
	if !info.MIG {
		u := uint32(math.Round(m.util(g, t)))
		r.Utilization = &u
	}
	for _, p := range m.procs(g, t, info.MemoryMiB) {
		r.Processes = append(r.Processes, ProcessReading{PID: p.pid, MemoryMiB: p.memMiB, SM: p.sm, Graphics: p.graphics && !p.compute})
	}
	return r
}
