package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"time"
)

var (
	ackRe  = regexp.MustCompile(`ack latency p50 ([\d.]+)ms p99 ([\d.]+)ms \((\d+) acks\)`)
	dropRe = regexp.MustCompile(`(\d+) agents \((\d+) connected at the end\), (\d+) snapshots sampled, (\d+) unacknowledged, (\d+) dropped`)
)

// loadRun is one gpumon-loadgen run against a fresh hub.
type loadRun struct {
	offered, rate     float64 // snapshots/s
	hubCPUPerSnap     float64 // seconds
	hubCores, lgCores float64 // CPU used, in cores
	p50, p99          time.Duration
	connected, agents int
	dropped, pending  int
	hubRSS            int64
}

func (r loadRun) healthy() (bool, string) {
	switch {
	case r.connected < r.agents:
		return false, fmt.Sprintf("%d of %d agents connected", r.connected, r.agents)
	case r.rate < 0.95*r.offered:
		return false, fmt.Sprintf("hub kept up with %.0f of %.0f snapshots/s", r.rate, r.offered)
	case r.p99 > time.Second:
		return false, "ack p99 over 1 s"
	case r.dropped > 0:
		return false, fmt.Sprintf("%d snapshots dropped by agents", r.dropped)
	}
	return true, ""
}

func loadgenCmd(agents int, interval time.Duration) string {
	return fmt.Sprintf("GPUMON_TOKEN=TOKEN gpumon-loadgen --hub HUB:7865 --profile dgxh100 --agents %d --interval %s --duration 20s --spread", agents, interval)
}

// runLoad drives a fresh hub with agents simulated agents for warm+measure.
func (b *bench) runLoad(name string, agents int, interval, warm, measure time.Duration) (loadRun, error) {
	r := loadRun{agents: agents, offered: float64(agents) / interval.Seconds()}
	h, err := b.startHub(name)
	if err != nil {
		return r, err
	}
	defer h.stop()
	total := warm + measure + 3*time.Second
	lg, err := b.start(name+"-loadgen", nil, filepath.Join(b.bin, "gpumon-loadgen"),
		"--hub", h.grpc, "--token", agentToken, "--profile", "dgxh100", "--agents", strconv.Itoa(agents),
		"--interval", interval.String(), "--duration", total.String(), "--prefix", name, "--spread")
	if err != nil {
		return r, err
	}
	defer lg.stop()
	time.Sleep(warm)
	h0, l0 := sample(h.pid()), sample(lg.pid())
	n0, err := h.counter("gpumon_hub_snapshots_total")
	if err != nil {
		return r, err
	}
	time.Sleep(measure)
	h1, l1 := sample(h.pid()), sample(lg.pid())
	n1, err := h.counter("gpumon_hub_snapshots_total")
	if err != nil {
		return r, err
	}
	r.hubRSS = h1.rss
	el := h1.at.Sub(h0.at).Seconds()
	r.rate = (n1 - n0) / el
	r.hubCores = (h1.cpu - h0.cpu).Seconds() / el
	r.lgCores = (l1.cpu - l0.cpu).Seconds() / el
	if n1 > n0 {
		r.hubCPUPerSnap = (h1.cpu - h0.cpu).Seconds() / (n1 - n0)
	}
	select {
	case <-lg.done:
	case <-time.After(total + 30*time.Second):
	}
	lg.stop()
	out, _ := os.ReadFile(lg.log.Name())
	acks := ackRe.FindAllSubmatch(out, -1)
	// Progress lines every 5 s carry their own window; the last line is the
	// whole run. Windows after the warm-up count.
	var p50s []float64
	for i, m := range acks {
		if len(acks) > 2 && (i == 0 || i == len(acks)-1) {
			continue
		}
		p50, _ := strconv.ParseFloat(string(m[1]), 64)
		p99, _ := strconv.ParseFloat(string(m[2]), 64)
		p50s = append(p50s, p50)
		r.p99 = max(r.p99, time.Duration(p99*float64(time.Millisecond)))
	}
	r.p50 = time.Duration(median(p50s) * float64(time.Millisecond))
	m := dropRe.FindAllSubmatch(out, -1)
	if len(m) == 0 {
		return r, fmt.Errorf("no result from gpumon-loadgen (see %s)", lg.log.Name())
	}
	// Agents are counted on the last progress line: the final line is
	// written while they shut down.
	live := m[max(len(m)-2, 0)]
	r.connected, _ = strconv.Atoi(string(live[2]))
	last := m[len(m)-1]
	r.pending, _ = strconv.Atoi(string(last[4]))
	r.dropped, _ = strconv.Atoi(string(last[5]))
	return r, nil
}

// grpcIngest: agent streams at rising rates, and memory per connected agent.
func (b *bench) grpcIngest() error {
	const sec = "Ingest: agent streams over gRPC (gpumon-loadgen on the same machine)"
	type point struct {
		agents   int
		interval time.Duration
		headline bool
	}
	points := []point{{25, 100 * time.Millisecond, false}, {50, 100 * time.Millisecond, false},
		{100, 100 * time.Millisecond, false}, {250, 100 * time.Millisecond, false}, {500, 100 * time.Millisecond, true}}
	warm, measure := b.dur(6*time.Second), b.dur(10*time.Second)
	var best float64
	var steady []float64 // hub CPU per snapshot of the sustained rates
	var headline loadRun
	breaking := ""
	for _, p := range points {
		if breaking != "" && !p.headline {
			continue // past the breaking point; the goal's rate is still measured
		}
		reps := 1
		if p.headline {
			reps = b.reps
		}
		var runs []loadRun
		for i := range reps {
			r, err := b.runLoad(fmt.Sprintf("grpc-%d-%d", p.agents, i), p.agents, p.interval, warm, measure)
			if err != nil {
				return err
			}
			runs = append(runs, r)
		}
		r := medianRun(runs)
		ok, why := r.healthy()
		if p.headline {
			headline = r
		}
		if ok {
			best = max(best, r.rate)
			steady = append(steady, r.hubCPUPerSnap)
		} else if breaking == "" {
			breaking = fmt.Sprintf("%d agents at %s (%.0f/s offered): %s", p.agents, p.interval, r.offered, why)
		}
		name := fmt.Sprintf("%d agents × every %s = %.0f snapshots/s offered", p.agents, p.interval, r.offered)
		if reps > 1 {
			name += fmt.Sprintf(" (median of %d)", reps)
		}
		status := "sustained"
		if !ok {
			status = "**breaks**: " + why
		}
		b.add(Row{
			Section: sec, Name: name,
			Hub: fmt.Sprintf("%.0f/s; hub %.0f µs CPU/snapshot, %.2f cores; loadgen %.2f cores; ack p50 %s p99 %s; hub RSS %s",
				r.rate, r.hubCPUPerSnap*1e6, r.hubCores, r.lgCores, fmtMs(r.p50), fmtMs(r.p99), fmtBytes(float64(r.hubRSS))),
			Status:  status,
			Command: loadgenCmd(p.agents, p.interval),
			Values: map[string]float64{"offered": r.offered, "rate": r.rate, "hub_cpu_per_snapshot_s": r.hubCPUPerSnap,
				"hub_cores": r.hubCores, "loadgen_cores": r.lgCores, "ack_p50_ms": ms(r.p50), "ack_p99_ms": ms(r.p99), "dropped": float64(r.dropped)},
		})
	}
	if breaking == "" {
		breaking = "not reached up to the highest rate tried"
	}
	b.add(Row{Section: sec, Name: "breaking point", Hub: breaking, Command: "make bench BENCH_ONLY=grpc"})
	b.add(Row{
		Section: sec, Name: "highest sustained rate vs ≥ 5,000 snapshots/s (500 agents × 100 ms, all connected, ack p99 < 1 s)", Hub: fmtRate(best),
		Goal: "≥ 5,000/s", Status: verdict(best >= 5000, nextLimit(headline)),
		Command: "make bench BENCH_ONLY=grpc",
	})
	if len(steady) > 0 {
		per := median(steady)
		b.add(Row{
			Section: sec, Name: "hub CPU per steady-state snapshot (median over the sustained rates)", Hub: fmt.Sprintf("%.0f µs", per*1e6),
			Goal: "≤ 100 µs", Status: verdict(per <= 100e-6, ""),
			Command: "make bench BENCH_ONLY=grpc", Values: map[string]float64{"hub_cpu_per_snapshot_s": per},
		})
	}
	if b.basePost > 0 {
		b.add(Row{
			Section: sec, Name: "highest sustained gRPC rate vs the baseline's best POST rate", Baseline: fmtRate(b.basePost), Hub: fmtRate(best),
			Ratio: ratio(best / b.basePost), Goal: "≥ 20×", Status: verdict(best/b.basePost >= 20, ""),
			Command: "make bench BENCH_ONLY=post,grpc",
		})
	}
	return b.memoryPerAgent(sec)
}

// memoryPerAgent: hub RSS with 1,000 agents at the default 2 s interval.
func (b *bench) memoryPerAgent(sec string) error {
	const agents = 1000
	interval := 10 * time.Second
	h, err := b.startHub("grpc-rss")
	if err != nil {
		return err
	}
	defer h.stop()
	time.Sleep(time.Second)
	idle := sample(h.pid())
	lg, err := b.start("grpc-rss-loadgen", nil, filepath.Join(b.bin, "gpumon-loadgen"),
		"--hub", h.grpc, "--token", agentToken, "--agents", strconv.Itoa(agents), "--interval", interval.String(), "--duration", "5m", "--prefix", "rss", "--spread")
	if err != nil {
		return err
	}
	defer lg.stop()
	time.Sleep(b.dur(20 * time.Second))
	busy := sample(h.pid())
	per := float64(busy.rss-idle.rss) / agents
	b.add(Row{
		Section: sec, Name: "hub RSS per connected agent (1,000 agents, each every 10 s)",
		Hub:  fmt.Sprintf("%s (idle hub %s, with 1,000 agents %s)", fmtBytes(per), fmtBytes(float64(idle.rss)), fmtBytes(float64(busy.rss))),
		Goal: "≤ 200 KB", Status: verdict(per <= 200<<10, ""),
		Command: loadgenCmd(agents, interval), Values: map[string]float64{"rss_per_agent": per},
	})
	return nil
}

// nextLimit names what held the headline rate back: the cores the hub and
// the load generator used of the machine's, and which side took more.
func nextLimit(r loadRun) string {
	if r.offered == 0 {
		return ""
	}
	side := "the hub"
	if r.lgCores > r.hubCores {
		side = "the load generator"
	}
	return fmt.Sprintf("at %.0f/s offered the hub used %.2f cores and the load generator %.2f of the machine's %d; %s used more", r.offered, r.hubCores, r.lgCores, runtime.NumCPU(), side)
}

func medianRun(runs []loadRun) loadRun {
	slices.SortFunc(runs, func(a, b loadRun) int {
		switch {
		case a.rate < b.rate:
			return -1
		case a.rate > b.rate:
			return 1
		}
		return 0
	})
	return runs[len(runs)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
