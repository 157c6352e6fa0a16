package history

import (
	"sync"
	"time"

	"github.com/gpumon/gpumon/common/metricset"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/gpustate"
)

// UnknownUser names the owner of GPU processes whose user the report does
// not tell (a process in another PID namespace, or a report without users).
const UnknownUser = metricset.UnknownUser

// machineState is what the store remembers of one machine between samples:
// accounting, and the newest time recorded for it (see floorOf).
type machineState struct {
	mu        sync.Mutex // serialises Record, markers and accounting
	floor     int64      // newest time recorded, unix ms; valid when floorGen is the store's
	floorGen  uint64     // store generation the floor was read in; 0: not read
	last      time.Time
	users     map[string]*userAcc
	busySecs  float64 // GPU-seconds with at least one process
	memSecs   float64 // MiB-seconds held by processes
	idleSince map[int32]time.Time
	series    *seriesCache // built on the first Record
}

type userAcc struct {
	gpuSecs, memSecs float64
	present          bool
}

func newMachineState() *machineState {
	return &machineState{users: map[string]*userAcc{}, idleSince: map[int32]time.Time{}}
}

// account updates the machine's counters with a sample taken at t and
// returns the samples for users, containers, counters and idle GPUs. The
// sample counts for the time since the machine's previous one (at most
// three intervals: a gap counts as nothing; a replayed older sample, as
// nothing either). Each sample writes both running totals (counters, for
// rate() and increase()) and what it added (the _delta series), which
// GetUsage sums exactly. Caller holds ms.mu.
func (ms *machineState) account(out []sample, c *seriesCache, r *gpumonv1.Report, t time.Time, interval time.Duration) []sample {
	dt := 0.0
	if !ms.last.IsZero() && t.After(ms.last) {
		dt = min(t.Sub(ms.last), 3*max(interval, time.Second)).Seconds()
	}
	if t.After(ms.last) {
		ms.last = t
	}
	u := metricset.UsageOf(r)
	ms.busySecs += float64(u.Busy) * dt
	ms.memSecs += u.Memory * dt
	out = append(out,
		c.sample(MachineGPUSecs, nil, ms.busySecs), c.sample(MachineGPUSecsDelta, nil, float64(u.Busy)*dt),
		c.sample(MachineGPUMemSecs, nil, ms.memSecs), c.sample(MachineGPUMemSecsDelta, nil, u.Memory*dt))
	for user, acc := range ms.users {
		if _, ok := u.GPUs[user]; !ok && acc.present {
			acc.present = false
			ul := []metricset.Label{metricset.UserLabel(user)}
			out = append(out, c.sample(UserGPUs, ul, 0), c.sample(UserGPUMemory, ul, 0),
				c.sample(UserGPUSecs, ul, acc.gpuSecs), c.sample(UserGPUMemSecs, ul, acc.memSecs))
		}
	}
	for user, n := range u.GPUs {
		acc := ms.users[user]
		if acc == nil {
			acc = &userAcc{}
			ms.users[user] = acc
		}
		acc.present = true
		acc.gpuSecs += float64(n) * dt
		acc.memSecs += u.Mem[user] * dt
		ul := []metricset.Label{metricset.UserLabel(user)}
		out = append(out, c.sample(UserGPUs, ul, float64(n)), c.sample(UserGPUMemory, ul, u.Mem[user]),
			c.sample(UserGPUSecs, ul, acc.gpuSecs), c.sample(UserGPUMemSecs, ul, acc.memSecs),
			c.sample(UserGPUSecsDelta, ul, float64(n)*dt), c.sample(UserGPUMemSecsDelta, ul, u.Mem[user]*dt))
	}
	for ctr, v := range metricset.Containers(r) {
		out = append(out, c.sample(ContainerGPUMem, []metricset.Label{{Name: "container", Value: ctr}}, v))
	}
	return ms.trackIdle(out, c, r, t)
}

// trackIdle follows how long each GPU has been idle while held, by the
// samples' own times (gpustate's definition; the hub's published state uses
// its own clock).
func (ms *machineState) trackIdle(out []sample, c *seriesCache, r *gpumonv1.Report, t time.Time) []sample {
	seen := map[int32]bool{}
	for _, g := range r.GetGpuData() {
		seen[g.GetId()] = true
		since := gpustate.IdleSince(ms.idleSince[g.GetId()], g, t)
		secs := 0.0
		if since.IsZero() {
			delete(ms.idleSince, g.GetId())
		} else {
			ms.idleSince[g.GetId()] = since
			secs = t.Sub(since).Seconds()
		}
		c.emit(&out)(GPUIdleHeld, metricset.GPUIdentity(g.GetId(), g.GetUuid(), g.GetName()), secs)
	}
	for id := range ms.idleSince {
		if !seen[id] {
			delete(ms.idleSince, id)
		}
	}
	return out
}
