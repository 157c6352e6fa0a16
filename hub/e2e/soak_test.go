package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// soakSize reads the soak's size from the environment: `make soak` runs
// 1,000 agents, 50 readers and 20 watchers for 10 minutes; `make test` a
// small, quick version.
func soakSize() (agents, readers, watchers int, d time.Duration) {
	agents, readers, watchers, d = 100, 10, 5, 30*time.Second
	if v, err := strconv.Atoi(os.Getenv("GPUMON_SOAK_AGENTS")); err == nil {
		agents = v
	}
	if v, err := strconv.Atoi(os.Getenv("GPUMON_SOAK_READERS")); err == nil {
		readers = v
	}
	if v, err := strconv.Atoi(os.Getenv("GPUMON_SOAK_WATCHERS")); err == nil {
		watchers = v
	}
	if v, err := time.ParseDuration(os.Getenv("GPUMON_SOAK_DURATION")); err == nil {
		d = v
	}
	return
}

// metric reads one unlabelled value from /metrics.
func metric(t *testing.T, base, name string) float64 {
	t.Helper()
	for _, l := range strings.Split(getText(t, base+"/metrics"), "\n") {
		if strings.HasPrefix(l, name+" ") {
			v, _ := strconv.ParseFloat(strings.TrimSpace(l[len(name):]), 64)
			return v
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}

var loadgenSummary = regexp.MustCompile(`(\d+) agents \((\d+) connected at the end\), (\d+) snapshots sampled, (\d+) unacknowledged, (\d+) dropped`)

func TestSoak(t *testing.T) {
	agents, readers, watchers, d := soakSize()
	// The simulated agents all connect from one address.
	h := newHub(t, "--max-connections-per-address", strconv.Itoa(agents+10))
	began := time.Now()
	base := hubBaseline(t, h)
	gen := start(t, "gpumon-loadgen", "--hub", h.grpc, "--token", agentToken, "--agents", strconv.Itoa(agents),
		"--interval", "2s", "--duration", (d + 10*time.Minute).String(), "--profile", "small", "--prefix", "soak")
	waitFor(t, "every simulated agent connected", 2*time.Minute, func() bool { return metric(t, h.http, "gpumon_hub_agent_streams") == float64(agents) })
	// Readers and watchers start now; the baseline is taken once they have
	// warmed up (their working set is part of the steady state), and
	// compared with the end of the run.
	warmup := min(30*time.Second, d/4)
	ctx, cancel := context.WithTimeout(context.Background(), warmup+d)
	defer cancel()
	var requests, failures, events atomic.Int64
	var wg sync.WaitGroup
	paths := []string{"/api/v1/machines", "/api/v1/machines/soak-0001", "/api/v1/free-gpus", "/api/gpu-stats"}
	for i := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := i; ctx.Err() == nil; n++ {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.http+paths[n%len(paths)], nil)
				req.Header.Set("Accept-Encoding", "gzip")
				resp, err := http.DefaultClient.Do(req)
				if ctx.Err() != nil {
					return
				}
				requests.Add(1)
				if err != nil || resp.StatusCode != http.StatusOK {
					failures.Add(1)
				}
				if resp != nil {
					resp.Body.Close()
				}
				time.Sleep(500 * time.Millisecond)
			}
		}()
	}
	for range watchers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.http+"/api/v1/watch", nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				failures.Add(1)
				return
			}
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 1<<20), 16<<20)
			for sc.Scan() {
				events.Add(1)
			}
		}()
	}
	time.Sleep(warmup)
	g0, rss0 := metric(t, h.http, "go_goroutines"), metric(t, h.http, "process_resident_memory_bytes")
	snaps0 := metric(t, h.http, "gpumon_hub_snapshots_total")
	time.Sleep(d - 2*time.Second)
	g1, rss1 := metric(t, h.http, "go_goroutines"), metric(t, h.http, "process_resident_memory_bytes")
	snaps := metric(t, h.http, "gpumon_hub_snapshots_total") - snaps0
	wg.Wait()
	if n := metric(t, h.http, "gpumon_hub_agent_streams"); n != float64(agents) {
		t.Errorf("%.0f of %d agent streams still open at the end of the soak", n, agents)
	}
	_ = gen.cmd.Process.Signal(syscall.SIGTERM) // it prints its summary and stops
	select {
	case <-gen.done:
	case <-time.After(time.Minute):
		t.Fatal("loadgen did not stop")
	}
	all := loadgenSummary.FindAllStringSubmatch(gen.out.String(), -1)
	if all == nil {
		t.Fatalf("no loadgen summary in:\n%s", gen.out.String())
	}
	m := all[len(all)-1] // the final line; earlier ones are progress
	sampled, _ := strconv.Atoi(m[3])
	unacked, _ := strconv.Atoi(m[4])
	dropped, _ := strconv.Atoi(m[5])
	t.Logf("soak: %d agents, %d readers, %d watchers for %s: %.0f snapshots ingested (%.1f/s), %d REST requests, %d watch events",
		agents, readers, watchers, d, snaps, snaps/d.Seconds(), requests.Load(), events.Load())
	t.Logf("soak: goroutines %.0f → %.0f, RSS %.1f → %.1f MiB; loadgen: %s", g0, g1, rss0/(1<<20), rss1/(1<<20), m[0])
	if failures.Load() != 0 {
		t.Errorf("%d of %d REST/watch requests failed", failures.Load(), requests.Load())
	}
	if dropped != 0 || metric(t, h.http, `gpumon_hub_duplicate_snapshots_total`) != 0 {
		t.Errorf("snapshots dropped (%d) or duplicated", dropped)
	}
	// Bounds, between the warmed-up start and the end under the same load:
	// goroutines stay put (slack for connections coming and going); memory
	// grows at most by history's head block: 1.25× + 64 MiB.
	if g1 > g0+float64(readers)+50 {
		t.Errorf("goroutines grew from %.0f to %.0f", g0, g1)
	}
	if rss1 > rss0*1.25+64<<20 {
		t.Errorf("RSS grew from %.1f to %.1f MiB", rss0/(1<<20), rss1/(1<<20))
	}
	// Loss, one sequence number at a time: every machine's history holds
	// 1..n, each once and in order, and together they hold every snapshot
	// the agents had acknowledged (those unacknowledged at the summary may
	// have arrived since).
	stored := soakSeqs(t, h.http, time.Since(began)+time.Minute)
	if len(stored) != agents {
		t.Errorf("history holds sequence numbers of %d machines, want %d", len(stored), agents)
	}
	total := 0
	for host, seqs := range stored {
		for i, s := range seqs {
			if s != i+1 {
				t.Errorf("%s: history's sequence numbers are not 1..%d each once: first gap or repeat at position %d (%d)", host, len(seqs), i, s)
				break
			}
		}
		total += len(seqs)
	}
	if acked := sampled - unacked - dropped; total < acked || total > sampled-dropped {
		t.Errorf("history holds %d snapshots; the agents sampled %d, had %d acknowledged and %d not yet", total, sampled, acked, unacked)
	}
	t.Logf("soak: history holds %d snapshots of %d machines, each machine's 1..n once (loadgen: %d sampled, %d unacknowledged at its summary)", total, len(stored), sampled, unacked)

	// Every client has left: the hub is back to where it started.
	http.DefaultClient.CloseIdleConnections()
	waitFor(t, "goroutines and watchers back to the baseline", 2*time.Minute, func() bool {
		now := hubBaseline(t, h)
		return now.streams == 0 && now.watchers == 0 && now.goroutines <= base.goroutines+soakGoroutineSlack
	})
	end := hubBaseline(t, h)
	t.Logf("soak: after the clients left: goroutines %.0f (at the start %.0f), watchers %.0f, agent streams %.0f",
		end.goroutines, base.goroutines, end.watchers, end.streams)
}

// soakGoroutineSlack: goroutines a hub may hold beyond its idle baseline
// once every client has gone (its own connection to the test's /metrics
// reads, a TSDB compaction).
const soakGoroutineSlack = 10

type hubState struct{ goroutines, watchers, streams float64 }

func hubBaseline(t *testing.T, h *hub) hubState {
	t.Helper()
	return hubState{
		goroutines: metric(t, h.http, "go_goroutines"),
		watchers:   metric(t, h.http, "gpumon_hub_watch_subscribers"),
		streams:    metric(t, h.http, "gpumon_hub_agent_streams"),
	}
}

// soakSeqs returns, per machine, the sequence numbers history holds over the
// last span, in time order.
func soakSeqs(t *testing.T, base string, span time.Duration) map[string][]int {
	t.Helper()
	r := promQuery(t, base, fmt.Sprintf(`gpumon_agent_seq{machine=~"soak-.*"}[%ds]`, int(span.Seconds())+1), time.Now().Add(time.Second))
	out := map[string][]int{}
	for _, series := range r.Data.Result {
		var seqs []int
		for _, v := range series.Values {
			n, _ := strconv.Atoi(fmt.Sprint(v[1]))
			seqs = append(seqs, n)
		}
		out[series.Metric["machine"]] = seqs
	}
	return out
}
