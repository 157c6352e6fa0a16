package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"time"
)

var cycleRe = regexp.MustCompile(`BenchmarkCycle-\d+\s+\d+\s+([\d.]+) ns/op\s+([\d.]+) cpu-ms/op\s+(\d+) B/op\s+(\d+) allocs/op`)

// agentCost: a collection cycle in testing.B, then a real agent for a minute.
func (b *bench) agentCost() error {
	const sec = "Agent cost (gpumon-agent --simulate=dgxh100: 8 simulated GPUs, this machine's processes)"
	procs := countProcesses()
	benchtime := "3s"
	if b.quick {
		benchtime = "1s"
	}
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", "BenchmarkCycle", "-benchmem",
		"-benchtime", benchtime, "-count", strconv.Itoa(b.reps), "./internal/collect/")
	cmd.Dir = filepath.Join(b.root, "agent")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go test -bench: %v\n%s", err, out)
	}
	var wall, cpu, bytes, allocs []float64
	for _, m := range cycleRe.FindAllSubmatch(out, -1) {
		for i, dst := range []*[]float64{&wall, &cpu, &bytes, &allocs} {
			v, _ := strconv.ParseFloat(string(m[i+1]), 64)
			*dst = append(*dst, v)
		}
	}
	if len(cpu) == 0 {
		return fmt.Errorf("no BenchmarkCycle result in:\n%s", out)
	}
	b.add(Row{
		Section: sec, Name: fmt.Sprintf("one collection cycle (%d processes on this machine): CPU, wall, allocations", procs),
		Hub: fmt.Sprintf("%.1f ms CPU, %.1f ms wall, %s and %.0f allocations per cycle",
			median(cpu), median(wall)/1e6, fmtBytes(median(bytes)), median(allocs)),
		Goal: "< 20 ms CPU", Status: verdict(median(cpu) < 20, ""),
		Command: "cd agent && go test -run '^$' -bench BenchmarkCycle -benchmem ./internal/collect/",
		Values:  map[string]float64{"cpu_ms": median(cpu), "wall_ms": median(wall) / 1e6, "bytes": median(bytes), "allocs": median(allocs), "processes": float64(procs)},
	})
	return b.realAgent(sec)
}

// realAgent runs gpumon-agent against a hub for a minute at the default
// interval and watches its CPU and memory, and its samples on the watch stream.
func (b *bench) realAgent(sec string) error {
	h, err := b.startHub("agent-hub")
	if err != nil {
		return err
	}
	defer h.stop()
	ctx, cancel := context.WithCancel(context.Background())
	w := &watcher{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.follow(ctx, h.url("/api/v1/watch?include_report=true&machine=bench-agent"), true)
	}()
	defer func() { cancel(); <-done }()
	a, err := b.start("agent", nil, filepath.Join(b.bin, "gpumon-agent"),
		"--hub", h.grpc, "--token", agentToken, "--simulate", "dgxh100", "--hostname", "bench-agent", "--interval", "2s", "--log-level", "warn",
		"--state-dir", filepath.Join(b.tmp, "agent-state"))
	if err != nil {
		return err
	}
	defer a.stop()
	time.Sleep(b.dur(6 * time.Second))
	u0 := sample(a.pid())
	var peak int64
	end := time.Now().Add(b.dur(60 * time.Second))
	for time.Now().Before(end) {
		time.Sleep(time.Second)
		r, _ := rss(a.pid())
		peak = max(peak, r)
	}
	u1 := sample(a.pid())
	el := u1.at.Sub(u0.at)
	cycles := el.Seconds() / 2
	core := (u1.cpu - u0.cpu).Seconds() / el.Seconds() * 100
	perCycle := float64(u1.cpu-u0.cpu) / float64(time.Millisecond) / cycles
	cmd := "GPUMON_TOKEN=TOKEN gpumon-agent --simulate=dgxh100 --hub HUB:7865  # CPU and RSS from /proc/<pid>/stat and status over 60 s"
	b.add(Row{
		Section: sec, Name: fmt.Sprintf("real agent, 2 s interval, %s: CPU per cycle", el.Round(time.Second)),
		Hub:  fmt.Sprintf("%.1f ms", perCycle),
		Goal: "≤ 10 ms", Status: verdict(perCycle <= 10, ""), Command: cmd,
		Values: map[string]float64{"cpu_ms_per_cycle": perCycle},
	})
	b.add(Row{
		Section: sec, Name: "real agent: CPU of one core", Hub: fmt.Sprintf("%.2f %%", core),
		Goal: "< 1 %", Status: verdict(core < 1, ""), Command: cmd,
		Values: map[string]float64{"cpu_percent": core},
	})
	b.add(Row{
		Section: sec, Name: "real agent: RSS (steady, peak)", Hub: fmt.Sprintf("%s, %s", fmtBytes(float64(u1.rss)), fmtBytes(float64(peak))),
		Goal: "< 40 MB", Status: verdict(peak < 40<<20, ""), Command: cmd,
		Values: map[string]float64{"rss": float64(u1.rss), "rss_peak": float64(peak)},
	})
	b.add(Row{
		Section: sec, Name: "bytes per steady-state snapshot, against a full snapshot",
		Hub: "not measured here: see go test -v -run TestSteadyDeltaIsSmall ./common/procdelta", Goal: "≥ 10× fewer",
		Status:  "not measured by this harness",
		Command: "go test -v -run TestSteadyDeltaIsSmall ./common/procdelta",
	})
	lats := w.window(u0.at, u1.at)
	slices.Sort(lats)
	b.add(Row{
		Section: sec, Name: fmt.Sprintf("real agent: sample → watch stream, p50 / p99 (%d samples)", len(lats)),
		Hub:  fmtMs(pct(lats, 50)) + " / " + fmtMs(pct(lats, 99)),
		Goal: "p99 < 200 ms", Status: verdict(len(lats) > 0 && pct(lats, 99) < 200*time.Millisecond, ""), Command: cmd,
		Values: map[string]float64{"p50_ms": ms(pct(lats, 50)), "p99_ms": ms(pct(lats, 99))},
	})
	return nil
}

func countProcesses() int {
	ents, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err == nil {
			n++
		}
	}
	return n
}
