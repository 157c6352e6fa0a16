package sim

import (
	"fmt"
	"math"
	"time"
)

// slot is how long one round of jobs lasts; jobs start a little after a
// slot begins and end a little before it ends.
const slot = 6 * time.Minute

type jobKind uint8

const (
	kindIdle jobKind = iota
	// kindTrain is a training run: high, steady load.
	kindTrain
	// kindInfer is an inference server: bursty, moderate load, video decode.
	kindInfer
	// kindHeld is memory held with no work: an idle notebook.
	kindHeld
)

// job is what runs on one GPU at one moment.
type job struct {
	kind    jobKind
	level   float64 // mean utilisation, percent
	memFrac float64 // share of the card's memory the job grows to
	from    time.Time
	// pids holds npids processes (at most two).
	pids  [2]uint32
	npids int
	// graphics: the first process also draws (listed as graphics too).
	graphics bool
}

// model computes every simulated figure from the seed and the time. It has
// no mutable state, so one model serves all devices from any goroutine.
type model struct {
	spec  spec
	seed  uint64
	n     int
	start time.Time
	pids  []uint32
}

func newModel(s spec, seed uint64, n int, start time.Time, pids []uint32) *model {
	return &model{spec: s, seed: seed, n: n, start: start, pids: pids}
}

// Salts keep the hash streams of different decisions apart.
const (
	saltCount uint64 = iota + 1
	saltRank
	saltKind
	saltLevel
	saltMem
	saltWindow
	saltPID
	saltNoise
	saltJitter
	saltUUID
	saltECC
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

// job returns what runs on GPU g at t. In every slot at least one GPU is
// busy and, on machines with more than one GPU, at least one is free.
func (m *model) job(g int, t time.Time) job {
	k := uint64(t.Unix() / int64(slot/time.Second))
	start := time.Unix(int64(k)*int64(slot/time.Second), 0)
	busy := 1 + int(h(m.seed, k, saltCount)%uint64(max(m.n-1, 1)))
	if m.rank(g, k) >= busy {
		return job{}
	}
	from := start.Add(time.Duration(h(m.seed, k, uint64(g), saltWindow)%45) * time.Second)
	to := start.Add(slot - time.Duration(h(m.seed, k, uint64(g), saltWindow+1)%90)*time.Second)
	if t.Before(from) || !t.Before(to) {
		return job{}
	}
	j := job{from: from}
	r := unit(h(m.seed, k, uint64(g), saltKind))
	lv := unit(h(m.seed, k, uint64(g), saltLevel))
	mem := unit(h(m.seed, k, uint64(g), saltMem))
	switch {
	case r < 0.55:
		j.kind, j.level, j.memFrac = kindTrain, 75+24*lv, 0.45+0.5*mem
	case r < 0.8:
		j.kind, j.level, j.memFrac = kindInfer, 15+40*lv, 0.2+0.4*mem
	default:
		j.kind, j.level, j.memFrac = kindHeld, 0, 0.1+0.3*mem
	}
	if len(m.pids) > 0 {
		p := h(m.seed, k, uint64(g), saltPID)
		j.pids[0], j.npids = m.pids[p%uint64(len(m.pids))], 1
		if second := m.pids[(p>>20)%uint64(len(m.pids))]; p>>40%10 < 3 && second != j.pids[0] {
			j.pids[1], j.npids = second, 2
		}
		j.graphics = m.spec.consumer && p>>50%4 == 0
	}
	return j
}

// rank orders the GPUs of slot k by a hash; the lowest ranks are busy.
func (m *model) rank(g int, k uint64) int {
	mine := h(m.seed, k, uint64(g), saltRank)
	r := 0
	for o := range m.n {
		if other := h(m.seed, k, uint64(o), saltRank); other < mine || other == mine && o < g {
			r++
		}
	}
	return r
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
	j := m.job(g, t)
	return m.utilOf(g, j, t)
}

func (m *model) utilOf(g int, j job, t time.Time) float64 {
	since := t.Sub(j.from)
	if j.kind == kindIdle || j.kind == kindHeld || since < 8*time.Second {
		return 0
	}
	x := seconds(t)
	jitter := 2 * m.noise(g, saltJitter, x)
	var u float64
	if j.kind == kindTrain {
		u = j.level + 6*m.noise(g, saltNoise, x/12) + jitter
	} else {
		u = j.level * (1 + 0.8*m.noise(g, saltNoise, x/4))
	}
	return clamp(u, 0, 100)
}

// memRamp is the share of its memory a job has allocated at t: models load
// over the first 20 seconds.
func memRamp(j job, t time.Time) float64 {
	if j.kind == kindIdle {
		return 0
	}
	return clamp(t.Sub(j.from).Seconds()/20, 0, 1)
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
