package main

import (
	"fmt"
	"net/http"
	"slices"
	"time"
)

// postStats is a POST load measured over several runs.
type postStats struct {
	rate, cpuPerReq float64 // medians: requests/s, CPU seconds of the server per request
	p50, p99        time.Duration
	errors          int
	firstErr        string
}

// postRate posts bodies from conc clients and measures the server's rate and CPU.
func (b *bench) postRate(url string, bodies [][]byte, conc, pid int) postStats {
	var rates, cpus []float64
	var lats []time.Duration
	var st postStats
	for range b.reps {
		u0 := sample(pid)
		res := load(conc, b.dur(5*time.Second), b.dur(20*time.Second), 0, func(c *http.Client, i int) (int64, error) {
			return post(c, url, bodies[i%len(bodies)])
		})
		u1 := sample(pid)
		rates = append(rates, res.rate())
		if res.Requests > 0 {
			cpus = append(cpus, (u1.cpu-u0.cpu).Seconds()/float64(res.Requests))
		}
		lats = append(lats, res.Latencies...)
		st.errors += res.Errors
		if st.firstErr == "" {
			st.firstErr = res.FirstErr
		}
	}
	slices.Sort(lats)
	st.rate, st.cpuPerReq, st.p50, st.p99 = median(rates), median(cpus), pct(lats, 50), pct(lats, 99)
	return st
}

// restIngest: the documented POST on the baseline and on the hub.
func (b *bench) restIngest() error {
	bodies := payloads("post", 100)
	base, baseAddr, err := b.startBaseline("baseline-post")
	if err != nil {
		return err
	}
	defer base.stop()
	h, err := b.startHub("hub-post")
	if err != nil {
		return err
	}
	defer h.stop()
	const sec = "Ingest: documented REST POST (same payload, 100 hostnames in turn)"
	for _, c := range []int{1, 32} {
		bl := b.postRate("http://"+baseAddr+"/api/report-gpu-stats", bodies, c, base.pid())
		hb := b.postRate(h.url("/api/report-gpu-stats"), bodies, c, h.pid())
		for _, s := range []postStats{bl, hb} {
			if s.errors > 0 {
				b.notes = append(b.notes, fmt.Sprintf("POST with %d clients: %d errors (%s)", c, s.errors, s.firstErr))
			}
		}
		b.basePost = max(b.basePost, bl.rate)
		b.add(Row{
			Section: sec, Name: fmt.Sprintf("POST /api/report-gpu-stats, %d client(s): requests/s", c),
			Baseline: fmtRate(bl.rate), Hub: fmtRate(hb.rate), Ratio: ratio(hb.rate/bl.rate) + " (medians)",
			Goal: "≥ 5× the baseline", Status: verdict(hb.rate >= 5*bl.rate, ""),
			Command: "make bench BENCH_ONLY=post",
			Values:  map[string]float64{"baseline_rate": bl.rate, "gpumon_rate": hb.rate},
		})
		b.add(Row{
			Section: sec, Name: fmt.Sprintf("POST, %d client(s): latency p50 / p99", c),
			Baseline: fmtMs(bl.p50) + " / " + fmtMs(bl.p99), Hub: fmtMs(hb.p50) + " / " + fmtMs(hb.p99),
			Ratio:   ratios(float64(bl.p50)/float64(hb.p50), float64(bl.p99)/float64(hb.p99)),
			Command: "make bench BENCH_ONLY=post",
		})
		b.add(Row{
			Section: sec, Name: fmt.Sprintf("POST, %d client(s): server CPU per request", c),
			Baseline: fmtMs(time.Duration(bl.cpuPerReq * 1e9)), Hub: fmtMs(time.Duration(hb.cpuPerReq * 1e9)),
			Ratio: ratio(bl.cpuPerReq/hb.cpuPerReq) + " less (medians)",
			Goal:  "≤ 1/10 of the baseline's", Status: verdict(hb.cpuPerReq*10 <= bl.cpuPerReq, ""),
			Command: "make bench BENCH_ONLY=post",
			Values:  map[string]float64{"baseline_cpu_s": bl.cpuPerReq, "gpumon_cpu_s": hb.cpuPerReq},
		})
	}
	return nil
}
