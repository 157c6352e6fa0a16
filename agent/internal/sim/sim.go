// Package sim builds simulated GPU machines for gpumon-agent's
// --simulate=<profile> mode, the load generator, demos and tests.
//
// A simulated machine is go-nvml's mock server (package
// github.com/NVIDIA/go-nvml/pkg/nvml/mock/server and the dgx* machines)
// with every function the gpu collector calls filled in. A seeded Schedule
// decides which jobs run on which GPUs (training runs, torchrun jobs,
// Jupyter kernels holding memory, inference servers, evaluations), starting
// and ending over minutes; the figures follow the jobs (utilisation wobbles,
// temperature and power follow the load) and are reproducible in tests with
// an injected clock.
//
// With WithWorkers, every job is a real, harmless process started by the
// simulator — gpumon-agent's own binary, run under the job's program name
// and command line (python train.py …, torchrun …), waiting and doing
// nothing — inside a screen or tmux session the simulator creates where
// those are installed. Simulated GPU memory and utilisation belong to these
// processes only. A job whose process exits or is killed ends, and its GPUs
// are free from then on; the processes exit when the agent does.
package sim

import (
	"log/slog"
	"slices"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"
)

// DefaultSeed is the seed used when none is given.
const DefaultSeed = 1

// Option configures a simulated machine.
type Option func(*config)

type config struct {
	seed     uint64
	now      func() time.Time
	fakePIDs bool
	users    []string
	workers  *slog.Logger
}

// WithSeed sets the seed; machines with different seeds run different jobs.
func WithSeed(seed uint64) Option { return func(c *config) { c.seed = seed } }

// WithClock sets the clock the figures are computed from (time.Now by
// default).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithFakePIDs gives the jobs' processes made-up PIDs (from FakePIDBase up)
// instead of real ones: for load generation and tests, where no process
// runs. Without it or WithWorkers, jobs hold memory with no process listed.
func WithFakePIDs() Option { return func(c *config) { c.fakePIDs = true } }

// FakePIDBase is the lowest PID WithFakePIDs hands out.
const FakePIDBase = 100000

// WithUsers draws each job's owner from users (the load generator's
// machines have several); by default jobs have no owner of their own.
func WithUsers(users ...string) Option {
	return func(c *config) { c.users = slices.Clone(users) }
}

// WithWorkers makes every job a real process started by the simulator
// (see the package documentation), logging to log. New starts the jobs
// running at the start; Close stops them.
func WithWorkers(log *slog.Logger) Option {
	return func(c *config) {
		c.workers = log
		if log == nil {
			c.workers = slog.New(slog.DiscardHandler)
		}
	}
}

// Machine is a simulated NVML library. It satisfies nvml.Interface through
// the embedded mock server.
type Machine struct {
	*server.Server
	*Lab
	profile string
	handles []nvml.Device
	workers *supervisor
	events  events
}

// Simulated reports that the machine is not real hardware; the gpu
// collector marks its samples accordingly.
func (m *Machine) Simulated() bool { return true }

// Profile returns the profile the machine was built from.
func (m *Machine) Profile() string { return m.profile }

// Profiles lists the profile names New accepts, sorted.
func Profiles() []string {
	names := make([]string, 0, len(profiles))
	for name := range profiles {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Describe returns a one-line description of a profile, or "" for an
// unknown one.
func Describe(profile string) string {
	p, ok := profiles[profile]
	if !ok {
		return ""
	}
	return p.description
}

// New builds a simulated machine from a profile (see Profiles). With
// WithWorkers it also starts the processes of the jobs running now; Close
// stops them.
func New(profile string, opts ...Option) (*Machine, error) {
	lab, srv, err := newLab(profile, opts)
	if err != nil {
		return nil, err
	}
	c := config{now: time.Now}
	for _, o := range opts {
		o(&c)
	}
	m := lab.model
	mach := &Machine{Server: srv, Lab: lab, profile: profile}
	for i, d := range srv.Devices {
		dev := d.(*server.Device)
		dev.UUID = lab.gpus[i].UUID
		wire(dev, m, i, c.now)
		mach.handles = append(mach.handles, device{Device: dev, index: i})
	}
	if c.workers != nil {
		w, err := startSupervisor(c.workers, m.sched, c.now, func(gpus []int) {
			for _, g := range gpus {
				mach.InjectXID(g, SimulatedXID)
			}
		})
		if err != nil {
			return nil, err
		}
		mach.workers = w
	}
	return mach, nil
}

// Close stops the machine's worker processes and removes what the
// simulator created (sessions, its temporary directory). It is safe to call
// more than once, and on machines without workers.
func (m *Machine) Close() error {
	if m.workers == nil {
		return nil
	}
	return m.workers.close()
}

// DeviceGetHandleByIndex returns GPU i. Unlike the mock's, it records
// nothing (see device).
func (m *Machine) DeviceGetHandleByIndex(i int) (nvml.Device, nvml.Return) {
	if i < 0 || i >= len(m.handles) {
		return nil, nvml.ERROR_INVALID_ARGUMENT
	}
	return m.handles[i], nvml.SUCCESS
}
