package sim

import (
	"slices"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// TestFiguresMoveAndStayInRange walks each profile through three hours of
// injected time and checks what a user of the demo would notice: figures
// stay physical, they move, temperature and power follow the load, every
// GPU works some of the time, and some GPU is always free.
func TestFiguresMoveAndStayInRange(t *testing.T) {
	const step, span = 20 * time.Second, 3 * time.Hour
	for _, profile := range Profiles() {
		t.Run(profile, func(t *testing.T) {
			m, clk := newMachine(t, profile)
			p := profiles[profile].spec
			n := len(m.Devices)
			busy, idle := make([]int, n), make([]int, n)
			utils := map[uint32]bool{}
			var hot, cool []float64
			for at := t0; at.Before(t0.Add(span)); at = at.Add(step) {
				clk.t = at
				free := 0
				for i := range n {
					r := read(t, m, i)
					checkRanges(t, p, i, at, r)
					utils[r.util] = true
					if len(r.compute) == 0 {
						free++
					}
					switch load := m.model.loadAvg(i, at); {
					case r.util > 50:
						busy[i]++
					case r.util == 0 && load == 0:
						idle[i]++
						cool = append(cool, float64(r.temp))
					}
					if m.model.loadAvg(i, at) > 70 {
						hot = append(hot, float64(r.temp))
					}
				}
				if free == 0 && n > 1 {
					t.Errorf("%s: no free GPU", at)
				}
			}
			for i := range n {
				if i == p.migGPU {
					continue // no utilisation in MIG mode
				}
				if busy[i] == 0 || idle[i] == 0 {
					t.Errorf("GPU %d: busy %d times, idle %d times; want both", i, busy[i], idle[i])
				}
			}
			t.Logf("busy %v idle %v utils %d hot %.1f (%d) cool %.1f (%d)", busy, idle, len(utils), mean(hot), len(hot), mean(cool), len(cool))
			if len(utils) < 30 {
				t.Errorf("only %d distinct utilisation values", len(utils))
			}
			if len(hot) == 0 || mean(hot) < p.tempIdle+p.tempRise*0.6 || mean(cool) > p.tempIdle+3 {
				t.Errorf("temperature does not follow load: %.1f °C hot (%d), %.1f °C cool", mean(hot), len(hot), mean(cool))
			}
		})
	}
}

func checkRanges(t *testing.T, p spec, i int, at time.Time, r reading) {
	t.Helper()
	bad := func(what string, v any) { t.Errorf("%s GPU %d: %s = %v out of range", at, i, what, v) }
	if r.util > 100 || r.memUtil > 100 {
		bad("utilisation", [2]uint32{r.util, r.memUtil})
	}
	if r.used > r.total || r.used < p.reservedMiB {
		bad("memory used", r.used)
	}
	if t := float64(r.temp); t < p.tempIdle-2 || t > p.tempIdle+p.tempRise+4 {
		bad("temperature", r.temp)
	}
	if w := float64(r.power); w < p.idleWatts*0.9-1 || w > p.limitWatts {
		bad("power", r.power)
	}
	if r.util > 90 && float64(r.power) < 0.7*p.limitWatts {
		bad("power at full load", r.power)
	}
	if r.sm < p.smIdle || r.sm > p.smMax || r.mem < p.memIdle || r.mem > p.memMax {
		bad("clocks", [2]uint32{r.sm, r.mem})
	}
	var procMem uint64
	for _, c := range r.compute {
		procMem += c.UsedGpuMemory >> 20
	}
	if procMem > r.used {
		bad("process memory", procMem)
	}
	if r.util > 0 && len(r.compute) == 0 {
		bad("busy without a process", r.util)
	}
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// TestConsumerProcesses: on the workstation profile a display process sits
// on GPU 0 and, at some point, a job both computes and draws.
func TestConsumerProcesses(t *testing.T) {
	m, clk := newMachine(t, "rtx4090x4")
	both := false
	for at := t0; at.Before(t0.Add(6 * time.Hour)); at = at.Add(time.Minute) {
		clk.t = at
		for i := range 4 {
			r := read(t, m, i)
			if i == 0 && !slices.ContainsFunc(r.graphics, func(p nvml.ProcessInfo) bool { return p.Pid == 404 }) {
				t.Fatalf("%s: no display process on GPU 0: %+v", at, r.graphics)
			}
			for _, g := range r.graphics {
				for _, c := range r.compute {
					if c.Pid == g.Pid && c.Pid != 404 {
						both = true
					}
				}
			}
			for _, c := range r.compute {
				if !slices.Contains([]uint32{101, 202, 303, 404}, c.Pid) {
					t.Errorf("process %d is not one of the given PIDs", c.Pid)
				}
			}
		}
	}
	if !both {
		t.Error("no process ever both computed and drew")
	}
}
