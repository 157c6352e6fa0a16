package sim

import (
	"math"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// proc is one simulated process on one GPU.
type proc struct {
	pid      uint32
	memMiB   uint64
	sm       uint32
	compute  bool
	graphics bool
}

// procs lists GPU g's processes at t: the job's process on this GPU, and on
// a workstation's GPU 0 its X server. A job whose processes have no PID (a
// simulated machine without workers) holds memory with no process listed.
func (m *model) procs(g int, t time.Time, totalMiB uint64) []proc {
	var out []proc
	if j := m.job(g, t); j.Kind != 0 {
		if pid := j.PID(g); pid != 0 {
			out = append(out, proc{pid: pid, memMiB: m.jobMemMiB(g, j, t, totalMiB),
				sm: uint32(math.Round(m.utilOf(g, j, t))), compute: true})
		}
	}
	if g == 0 && m.spec.consumer {
		if d, ok := m.sched.displayJob(t); ok && d.PIDs[0] != 0 {
			out = append(out, proc{pid: d.PIDs[0], memMiB: m.displayMiB(t), graphics: true})
		}
	}
	return out
}

// jobMemMiB is the memory job j holds on GPU g at t.
func (m *model) jobMemMiB(g int, j Job, t time.Time, totalMiB uint64) uint64 {
	mem := j.MemFrac * float64(totalMiB-m.spec.reservedMiB) * memRamp(j, t)
	if steady(j.Kind) {
		mem *= 1 + 0.01*m.noise(g, saltMem, seconds(t)/30)
	}
	return uint64(mem)
}

// displayMiB is what the X server holds on a workstation's GPU 0.
func (m *model) displayMiB(t time.Time) uint64 {
	return uint64(180 + 60*m.noise(0, saltMem+1, seconds(t)/45))
}

// memory returns the card's memory figures in bytes.
func (m *model) memory(g int, t time.Time, totalMiB uint64) nvml.Memory {
	used := m.spec.reservedMiB
	if j := m.job(g, t); j.Kind != 0 {
		used += m.jobMemMiB(g, j, t, totalMiB)
	}
	if g == 0 && m.spec.consumer {
		if _, ok := m.sched.displayJob(t); ok {
			used += m.displayMiB(t)
		}
	}
	used = min(used, totalMiB)
	const mib = 1 << 20
	return nvml.Memory{Total: totalMiB * mib, Used: used * mib, Free: (totalMiB - used) * mib}
}

// memUtil is the memory-controller utilisation in percent.
func (m *model) memUtil(g int, t time.Time) float64 {
	j := m.job(g, t)
	u := m.utilOf(g, j, t)
	if steady(j.Kind) {
		return clamp(u*0.45+3*m.noise(g, saltJitter+1, seconds(t)), 0, 100)
	}
	return u * 0.3
}

// temperature in °C follows the load of the last two minutes.
func (m *model) temperature(g int, t time.Time) float64 {
	held := 0.0
	if m.job(g, t).Kind != 0 {
		held = 2
	}
	return m.spec.tempIdle + m.spec.tempRise*m.loadAvg(g, t)/100 + held +
		0.8*m.noise(g, saltNoise+1, seconds(t)/20)
}

// power draw in watts follows utilisation, capped at the limit.
func (m *model) power(g int, t time.Time) float64 {
	j := m.job(g, t)
	u := m.utilOf(g, j, t) / 100
	span := m.spec.limitWatts - m.spec.idleWatts
	w := m.spec.idleWatts + span*(0.8*u+0.2*u*u)
	if j.Kind != 0 {
		w += 0.04 * span
	}
	w *= 1 + 0.015*m.noise(g, saltJitter+2, seconds(t))
	return clamp(w, m.spec.idleWatts*0.9, m.spec.limitWatts)
}

// powerCapped reports whether the card runs at its power limit.
func (m *model) powerCapped(g int, t time.Time) bool {
	return m.power(g, t) >= 0.97*m.spec.limitWatts
}

// smClock in MHz: boost under load, shaved when power- or heat-limited.
func (m *model) smClock(g int, t time.Time) uint32 {
	if m.util(g, t) < 1 {
		return m.spec.smIdle
	}
	c := float64(m.spec.smMax)
	if m.powerCapped(g, t) {
		c *= 0.93
	}
	c -= 15 * math.Max(0, m.temperature(g, t)-80)
	return uint32(math.Round(c/15) * 15)
}

// memClock in MHz: full speed while a job runs.
func (m *model) memClock(g int, t time.Time) uint32 {
	if m.job(g, t).Kind == 0 {
		return m.spec.memIdle
	}
	return m.spec.memMax
}

// pstate: data-centre cards stay in P0; consumer cards idle in P8 and run
// compute in P2.
func (m *model) pstate(g int, t time.Time) nvml.Pstates {
	switch {
	case !m.spec.consumer:
		return nvml.PSTATE_0
	case m.job(g, t).Kind == 0:
		return nvml.PSTATE_8
	}
	return nvml.PSTATE_2
}

// reasons is the clock event reasons bit mask.
func (m *model) reasons(g int, t time.Time) uint64 {
	var r uint64
	if m.util(g, t) < 1 {
		r |= nvml.ClocksEventReasonGpuIdle
	}
	if m.powerCapped(g, t) {
		r |= nvml.ClocksEventReasonSwPowerCap
	}
	if m.temperature(g, t) >= 83 {
		r |= nvml.ClocksEventReasonSwThermalSlowdown
	}
	return r
}

// fan speed in percent of maximum (consumer cards only).
func (m *model) fan(g int, t time.Time) uint32 {
	return uint32(clamp(30+1.6*(m.temperature(g, t)-40), 30, 100))
}

// codec returns encoder and decoder utilisation: inference servers decode
// video, and on consumer cards also encode some.
func (m *model) codec(g int, t time.Time) (enc, dec uint32) {
	j := m.job(g, t)
	if j.Kind != KindServe || t.Sub(j.Start) < 8*time.Second {
		return 0, 0
	}
	d := clamp(j.Level*0.4*(1+0.5*m.noise(g, saltNoise+2, seconds(t)/5)), 0, 100)
	if m.spec.consumer {
		enc = uint32(d / 3)
	}
	return enc, uint32(d)
}

// eccCorrected counts corrected volatile ECC errors: one card of the
// machine collects one every 23 minutes.
func (m *model) eccCorrected(g int, t time.Time) uint64 {
	if m.n == 0 || g != int(h(m.seed, saltECC)%uint64(m.n)) || t.Before(m.start) {
		return 0
	}
	return uint64(t.Sub(m.start) / (23 * time.Minute))
}

// pcieGen is the current link generation; idle consumer cards drop to a
// slower one to save power.
func (m *model) pcieGen(g int, t time.Time) int {
	if m.job(g, t).Kind == 0 {
		return m.spec.pcieIdleGen
	}
	return m.spec.pcieGen
}
