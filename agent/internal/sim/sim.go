// Package sim builds simulated GPU machines for gpumon-agent's
// --simulate=<profile> mode, demos and tests.
//
// A simulated machine is go-nvml's mock server (package
// github.com/NVIDIA/go-nvml/pkg/nvml/mock/server and the dgx* machines)
// with every function the gpu collector calls filled in. Its figures are pure
// functions of a seed and the time, so they move like a shared lab server's
// (jobs start and stop, utilisation wobbles, temperature and power follow
// the load) and are reproducible in tests with an injected clock. Simulated
// GPU processes carry real PIDs of this machine, so the merged report shows
// real process names.
package sim

import (
	"fmt"
	"os"
	"slices"
	"strings"
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
	procRoot string
	pids     []uint32
	maxPIDs  int
}

// WithSeed sets the seed; machines with different seeds run different jobs.
func WithSeed(seed uint64) Option { return func(c *config) { c.seed = seed } }

// WithClock sets the clock the figures are computed from (time.Now by
// default).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithProcRoot sets where PIDs for simulated GPU processes are read from
// ("/proc" by default).
func WithProcRoot(dir string) Option { return func(c *config) { c.procRoot = dir } }

// WithPIDs gives the PIDs simulated GPU processes use instead of reading
// them from /proc.
func WithPIDs(pids ...uint32) Option {
	return func(c *config) { c.pids = slices.Clone(pids) }
}

// Machine is a simulated NVML library. It satisfies nvml.Interface through
// the embedded mock server.
type Machine struct {
	*server.Server
	profile string
	model   *model
	handles []nvml.Device
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

// New builds a simulated machine from a profile (see Profiles). The result
// is a *Machine.
func New(profile string, opts ...Option) (nvml.Interface, error) {
	p, ok := profiles[profile]
	if !ok {
		return nil, fmt.Errorf("unknown simulation profile %q (valid: %s)",
			profile, strings.Join(Profiles(), ", "))
	}
	c := config{seed: DefaultSeed, now: time.Now, procRoot: "/proc", maxPIDs: 6}
	for _, o := range opts {
		o(&c)
	}
	if len(c.pids) == 0 {
		c.pids = PickPIDs(c.procRoot, os.Getpid(), c.maxPIDs)
	}
	srv := p.build()
	m := newModel(p.spec, c.seed, len(srv.Devices), c.now(), c.pids)
	mach := &Machine{Server: srv, profile: profile, model: m}
	for i, d := range srv.Devices {
		dev := d.(*server.Device)
		dev.UUID = m.uuid(i)
		wire(dev, m, i, c.now)
		mach.handles = append(mach.handles, device{dev})
	}
	return mach, nil
}

// DeviceGetHandleByIndex returns GPU i. Unlike the mock's, it records
// nothing (see device).
func (m *Machine) DeviceGetHandleByIndex(i int) (nvml.Device, nvml.Return) {
	if i < 0 || i >= len(m.handles) {
		return nil, nvml.ERROR_INVALID_ARGUMENT
	}
	return m.handles[i], nvml.SUCCESS
}
