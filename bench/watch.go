package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"
)

// watcher follows GET /api/v1/watch and times sample events.
type watcher struct {
	mu  sync.Mutex
	at  []time.Time     // hub receive time (summaries) or sample time (reports) of each sample event
	lat []time.Duration // arrival − at
	err error
}

// window returns the latencies of the events whose time falls in [from, to).
func (w *watcher) window(from, to time.Time) []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []time.Duration
	for i, t := range w.at {
		if !t.Before(from) && t.Before(to) {
			out = append(out, w.lat[i])
		}
	}
	return out
}

var (
	reportKey = []byte(`"report":{`)
	tsKey     = []byte(`"timestamp":"`)
	sampleKey = []byte(`"type":"WATCH_EVENT_TYPE_SAMPLE"`)
)

// follow reads the stream until ctx is done. With reports it measures from
// each report's own timestamp (the agent's sample time); without, from the
// summary's last_seen (the hub's receive time).
func (w *watcher) follow(ctx context.Context, url string, reports bool) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.err = err
		return
	}
	defer resp.Body.Close()
	rd := bufio.NewReaderSize(resp.Body, 1<<20)
	for {
		line, err := rd.ReadBytes('\n')
		if err != nil {
			return
		}
		now := time.Now()
		if !bytes.Contains(line[:min(len(line), 64)], sampleKey) {
			continue
		}
		var at time.Time
		if reports {
			at = reportTime(line)
		} else {
			var ev struct {
				Machine struct {
					LastSeen time.Time `json:"last_seen"`
				} `json:"machine"`
			}
			if json.Unmarshal(line, &ev) == nil {
				at = ev.Machine.LastSeen
			}
		}
		if at.IsZero() {
			continue
		}
		w.mu.Lock()
		w.at = append(w.at, at)
		w.lat = append(w.lat, now.Sub(at))
		w.mu.Unlock()
	}
}

func reportTime(line []byte) time.Time {
	i := bytes.Index(line, reportKey)
	if i < 0 {
		return time.Time{}
	}
	j := bytes.Index(line[i:], tsKey)
	if j < 0 {
		return time.Time{}
	}
	rest := line[i+j+len(tsKey):]
	k := bytes.IndexByte(rest, '"')
	if k < 0 {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, string(rest[:k]))
	return t
}

// watch: 100 watchers of the whole fleet while 200 agents report every 2 s,
// plus one watcher with full reports for the sample-to-watch latency.
func (b *bench) watch() error {
	const (
		sec      = "Watch stream: fan-out and sample-to-screen latency"
		watchers = 100
		agents   = 200
	)
	h, err := b.startHub("watch")
	if err != nil {
		return err
	}
	defer h.stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ws := make([]*watcher, watchers+1)
	var wg sync.WaitGroup
	for i := range ws {
		ws[i] = &watcher{}
		url, reports := h.url("/api/v1/watch"), i == watchers
		if reports {
			url += "?include_report=true"
		}
		wg.Add(1)
		go func() { defer wg.Done(); ws[i].follow(ctx, url, reports) }()
	}
	defer wg.Wait()
	defer cancel()
	lg, err := b.start("watch-loadgen", nil, filepath.Join(b.bin, "gpumon-loadgen"),
		"--hub", h.grpc, "--token", agentToken, "--agents", strconv.Itoa(agents), "--interval", "2s", "--duration", "5m", "--prefix", "watch", "--spread")
	if err != nil {
		return err
	}
	defer lg.stop()
	time.Sleep(b.dur(5 * time.Second))
	d0, _ := h.counter("gpumon_hub_watch_dropped_events_total")
	n0, _ := h.counter("gpumon_hub_snapshots_total")
	u0 := sample(h.pid())
	time.Sleep(b.dur(20 * time.Second))
	u1 := sample(h.pid())
	n1, _ := h.counter("gpumon_hub_snapshots_total")
	d1, _ := h.counter("gpumon_hub_watch_dropped_events_total")
	// Events of the window that are still on their way get 5 s to arrive.
	time.Sleep(5 * time.Second)
	var fan []time.Duration
	var got []float64
	for _, w := range ws[:watchers] {
		l := w.window(u0.at, u1.at)
		fan = append(fan, l...)
		got = append(got, float64(len(l)))
	}
	s2w := ws[watchers].window(u0.at, u1.at)
	slices.Sort(fan)
	slices.Sort(s2w)
	el := u1.at.Sub(u0.at).Seconds()
	ingested := n1 - n0
	cores := (u1.cpu - u0.cpu).Seconds() / el
	b.add(Row{
		Section: sec, Name: fmt.Sprintf("%d watchers, %d agents every 2 s: sample events delivered per watcher; hub CPU (ingest and fan-out)", watchers, agents),
		Hub: fmt.Sprintf("%.0f of %.0f (median); %.0f events/s in all; %.0f dropped; hub %.2f cores",
			median(got), ingested, median(got)*watchers/el, d1-d0, cores),
		Goal: "< 0.5 core", Status: verdict(cores < 0.5, ""),
		Command: "make bench BENCH_ONLY=watch",
		Values:  map[string]float64{"delivered_median": median(got), "ingested": ingested, "dropped": d1 - d0},
	})
	b.add(Row{
		Section: sec, Name: "hub receive → watcher, p50 / p99 (all watchers)",
		Hub:     fmtMs(pct(fan, 50)) + " / " + fmtMs(pct(fan, 99)),
		Command: "make bench BENCH_ONLY=watch",
		Values:  map[string]float64{"p50_ms": ms(pct(fan, 50)), "p99_ms": ms(pct(fan, 99))},
	})
	p99 := pct(s2w, 99)
	b.add(Row{
		Section: sec, Name: fmt.Sprintf("sample → watch stream (report timestamp to arrival, %d samples), p50 / p99", len(s2w)),
		Hub:  fmtMs(pct(s2w, 50)) + " / " + fmtMs(p99),
		Goal: "p99 < 200 ms", Status: verdict(len(s2w) > 0 && p99 < 200*time.Millisecond, ""),
		Command: "make bench BENCH_ONLY=watch",
		Values:  map[string]float64{"p50_ms": ms(pct(s2w, 50)), "p99_ms": ms(p99), "samples": float64(len(s2w))},
	})
	return nil
}
