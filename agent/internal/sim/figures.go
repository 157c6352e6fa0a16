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

// procs lists GPU g's processes at t. Consumer cards also run a small
// display process on GPU 0.
func (m *model) procs(g int, t time.Time, totalMiB uint64) []proc {
	j := m.job(g, t)
	var out []proc
	if j.npids > 0 {
		mem := j.memFrac * float64(totalMiB-m.spec.reservedMiB) * memRamp(j, t)
		if j.kind == kindTrain {
			mem *= 1 + 0.01*m.noise(g, saltMem, seconds(t)/30)
		}
		u := m.utilOf(g, j, t)
		share := [2]float64{1, 0}
		if j.npids == 2 {
			share = [2]float64{0.85, 0.15}
		}
		for i, pid := range j.pids[:j.npids] {
			out = append(out, proc{
				pid:      pid,
				memMiB:   uint64(mem * share[i]),
				sm:       uint32(math.Round(u * share[i])),
				compute:  true,
				graphics: i == 0 && j.graphics,
			})
		}
	}
	if m.spec.consumer && g == 0 && len(m.pids) > 0 {
		mem := 180 + 60*m.noise(g, saltMem+1, seconds(t)/45)
		out = append(out, proc{pid: m.pids[len(m.pids)-1], memMiB: uint64(mem), graphics: true})
	}
	return out
}

// memory returns the card's memory figures in bytes.
func (m *model) memory(g int, t time.Time, totalMiB uint64) nvml.Memory {
	used := m.spec.reservedMiB
	for _, p := range m.procs(g, t, totalMiB) {
		used += p.memMiB
	}
	used = min(used, totalMiB)
	const mib = 1 << 20
	return nvml.Memory{Total: totalMiB * mib, Used: used * mib, Free: (totalMiB - used) * mib}
}

// memUtil is the memory-controller utilisation in percent.
func (m *model) memUtil(g int, t time.Time) float64 {
	j := m.job(g, t)
	u := m.utilOf(g, j, t)
	if j.kind == kindTrain {
		return clamp(u*0.45+3*m.noise(g, saltJitter+1, seconds(t)), 0, 100)
	}
	return u * 0.3
}

// temperature in °C follows the load of the last two minutes.
func (m *model) temperature(g int, t time.Time) float64 {
	held := 0.0
	if m.job(g, t).kind != kindIdle {
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
	if j.kind != kindIdle {
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
	if m.job(g, t).kind == kindIdle {
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
	case m.job(g, t).kind == kindIdle:
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
	if j.kind != kindInfer || t.Sub(j.from) < 8*time.Second {
		return 0, 0
	}
	d := clamp(j.level*0.4*(1+0.5*m.noise(g, saltNoise+2, seconds(t)/5)), 0, 100)
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
	if m.job(g, t).kind == kindIdle {
		return m.spec.pcieIdleGen
	}
	return m.spec.pcieGen
}
