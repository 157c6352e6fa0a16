package sim

import (
	"fmt"
	"math"
	"time"
)

// model computes every simulated figure from the schedule, the seed and
// the time. Its only state is the schedule's, which locks, so one model
// serves all devices from any goroutine.
type model struct {
	spec  spec
	seed  uint64
	n     int
	start time.Time
	sched *Schedule
}

// Salts keep the hash streams of different decisions apart.
const (
	saltMem uint64 = iota + 1
	saltNoise
	saltJitter
	saltUUID
	saltECC
	saltSchedule
	saltTemper
	saltEnergy
	saltPCIe
	saltGPM
)

// h hashes its arguments into 64 well-mixed bits (splitmix64 finaliser).
func h(vals ...uint64) uint64 {
	x := uint64(0x9e3779b97f4a7c15)
	for _, v := range vals {
		x ^= v + 0x9e3779b97f4a7c15 + x<<6 + x>>2
		x ^= x >> 30
		x *= 0xbf58476d1ce4e5b9
		x ^= x >> 27
		x *= 0x94d049bb133111eb
		x ^= x >> 31
	}
	return x
}

// unit maps a hash to [0, 1).
func unit(x uint64) float64 { return float64(x>>11) / (1 << 53) }

// job returns what runs on GPU g at t (the zero Job when nothing does).
func (m *model) job(g int, t time.Time) Job {
	j, _ := m.sched.on(g, t)
	return j
}

// noise is smooth value noise in [-1, 1] over x, one new value per unit.
func (m *model) noise(g int, salt uint64, x float64) float64 {
	i := math.Floor(x)
	f := x - i
	a := unit(h(m.seed, uint64(g), salt, uint64(int64(i))))
	b := unit(h(m.seed, uint64(g), salt, uint64(int64(i)+1)))
	f = f * f * (3 - 2*f)
	return 2*(a+(b-a)*f) - 1
}

// seconds is t as fractional Unix seconds.
func seconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// util returns the GPU's utilisation in percent at t.
func (m *model) util(g int, t time.Time) float64 {
	return m.utilOf(g, m.job(g, t), t)
}

// steady kinds run at a level with small wobbles; a server's load comes in
// bursts; a notebook holds memory and does nothing.
func steady(k Kind) bool { return k == KindTrain || k == KindFinetune || k == KindEval }

func (m *model) utilOf(g int, j Job, t time.Time) float64 {
	if j.Kind == 0 || j.Kind == KindNotebook || t.Sub(j.Start) < 8*time.Second {
		return 0
	}
	x := seconds(t)
	jitter := 2 * m.noise(g, saltJitter, x)
	var u float64
	if steady(j.Kind) {
		u = j.Level + 6*m.noise(g, saltNoise, x/12) + jitter
	} else {
		u = j.Level * (1 + 0.8*m.noise(g, saltNoise, x/4))
	}
	return clamp(u, 0, 100)
}

// memRamp is the share of its memory a job has allocated at t: models load
// over the first 20 seconds.
func memRamp(j Job, t time.Time) float64 {
	if j.Kind == 0 {
		return 0
	}
	return clamp(t.Sub(j.Start).Seconds()/20, 0, 1)
}

// loadAvg is the mean utilisation over the last two minutes: temperature
// and fans follow it with a lag.
func (m *model) loadAvg(g int, t time.Time) float64 {
	const points = 8
	var sum float64
	for i := range points {
		sum += m.util(g, t.Add(-time.Duration(i)*15*time.Second))
	}
	return sum / points
}

// uuid returns a stable UUID for GPU g.
func (m *model) uuid(g int) string {
	a, b := h(m.seed, uint64(g), saltUUID), h(m.seed, uint64(g), saltUUID+1)
	return fmt.Sprintf("GPU-%08x-%04x-%04x-%04x-%012x",
		a>>32, a>>16&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }
