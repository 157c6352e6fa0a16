package sim

import (
	"testing"
	"time"
)

// TestFiguresMoveAndStayInRange walks each profile, on three machines,
// through three hours of injected time and checks what a user of the demo
// would notice: figures stay physical, they move, temperature and power
// follow the load, and GPUs both work and rest.
func TestFiguresMoveAndStayInRange(t *testing.T) {
	const step, span = 20 * time.Second, 3 * time.Hour
	for _, profile := range Profiles() {
		t.Run(profile, func(t *testing.T) {
			p := profiles[profile].spec
			var busy, idle int
			utils := map[uint32]bool{}
			var hot, cool []float64
			for seed := range uint64(3) {
				m, clk := newMachine(t, profile, WithSeed(seed))
				for at := t0; at.Before(t0.Add(span)); at = at.Add(step) {
					clk.t = at
					for i := range len(m.Devices) {
						r := read(t, m, i)
						checkRanges(t, p, i, at, r)
						utils[r.util] = true
						switch load := m.model.loadAvg(i, at); {
						case r.util > 50:
							busy++
						case r.util == 0 && load == 0:
							idle++
							cool = append(cool, float64(r.temp))
						}
						if m.model.loadAvg(i, at) > 70 {
							hot = append(hot, float64(r.temp))
						}
					}
				}
			}
			t.Logf("busy %d idle %d utils %d hot %.1f (%d) cool %.1f (%d)", busy, idle, len(utils), mean(hot), len(hot), mean(cool), len(cool))
			if busy == 0 || idle == 0 {
				t.Errorf("GPUs busy %d times, idle %d times; want both", busy, idle)
			}
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

// TestConsumerProcesses: on a workstation an X server draws on GPU 0 the
// whole time, beside whatever computes there, and every process on a GPU is
// a job's (made-up PIDs here: no process of this machine is ever blamed).
func TestConsumerProcesses(t *testing.T) {
	m, clk := newMachine(t, "rtx4090x4")
	display := uint32(0)
	computed := false
	for at := t0; at.Before(t0.Add(6 * time.Hour)); at = at.Add(time.Minute) {
		clk.t = at
		for i := range 4 {
			r := read(t, m, i)
			if i == 0 {
				if len(r.graphics) != 1 || display != 0 && r.graphics[0].Pid != display {
					t.Fatalf("%s: GPU 0 graphics processes %+v, want the X server", at, r.graphics)
				}
				display = r.graphics[0].Pid
			} else if len(r.graphics) != 0 {
				t.Errorf("%s: GPU %d draws: %+v", at, i, r.graphics)
			}
			for _, c := range r.compute {
				computed = true
				if c.Pid < FakePIDBase || c.Pid == display {
					t.Errorf("GPU %d: compute process %d is no job's", i, c.Pid)
				}
			}
		}
	}
	if !computed {
		t.Error("no job computed in 6 hours")
	}
	jobs := m.Jobs(t0)
	if len(jobs) == 0 || jobs[0].Kind != KindDisplay || jobs[0].Procs[0].Argv[0] != "/usr/lib/xorg/Xorg" {
		t.Errorf("first job %+v, want the X server", jobs)
	}
}
