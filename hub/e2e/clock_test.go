package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var year2999 = time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)

// summaryOf is GET /api/v1/machines/{key}'s summary.
func summaryOf(t *testing.T, base, key string) map[string]any {
	t.Helper()
	return get(t, base+"/api/v1/machines/"+key).(map[string]any)["summary"].(map[string]any)
}

// assertServedNowWithOffset checks that a machine's latest sample, sent
// after sent, is served at the hub's receive time and that the machine
// carries its clock offset.
func assertServedNowWithOffset(t *testing.T, base, key string, sent time.Time, minOffset float64) {
	t.Helper()
	one := get(t, base+"/api/v1/machines/"+key).(map[string]any)
	ts, err := time.Parse(time.RFC3339Nano, fmt.Sprint(one["report"].(map[string]any)["timestamp"]))
	if err != nil || ts.Before(sent) || ts.After(time.Now()) {
		t.Errorf("%s: served timestamp %v (%v), want the hub's receive time", key, one["report"].(map[string]any)["timestamp"], err)
	}
	n, _ := one["summary"].(map[string]any)["clock_offset_seconds"].(json.Number)
	off, _ := n.Float64()
	if off < minOffset {
		t.Errorf("%s: clock_offset_seconds = %v, want at least %v", key, one["summary"].(map[string]any)["clock_offset_seconds"], minOffset)
	}
}

var blockDir = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{26}$`)

// A report from the year 2999, posted or streamed, is recorded at the hub's
// receive time: history keeps answering and recording, before and after a
// restart, and the TSDB writes no blocks for the future.
func TestFarFutureTimestampsNeitherWipeNorStopHistory(t *testing.T) {
	dir, httpAddr, grpcAddr := t.TempDir(), freeAddr(t), freeAddr(t)
	h := startHub(t, dir, httpAddr, grpcAddr)
	startAgent(t, h, "e2e-honest", "rtx4090x4")
	waitFor(t, "history of the honest agent", 30*time.Second, func() bool { return len(seqs(t, h.http, "e2e-honest")) >= 5 })

	sent := time.Now()
	code, v := postJSON(t, h.http+"/api/report-gpu-stats", agentToken,
		`{"hostname":"e2e-future-post","timestamp":"2999-01-01T00:00:00Z","gpu_data":[{"id":0,"name":"X","utilization":50,"memory_used":1,"memory_total":2}]}`)
	if code != 200 {
		t.Fatalf("POST: %d %v", code, v)
	}
	assertServedNowWithOffset(t, h.http, "e2e-future-post", sent, 3e10)

	a := connectHand(t, h, helloFor("e2e-future-grpc", "future-grpc-id"))
	sent = time.Now()
	a.send(1, year2999, "H100")
	a.waitAcked(1)
	assertServedNowWithOffset(t, h.http, "e2e-future-grpc", sent, 3e10)
	for seq := uint64(2); seq <= 4; seq++ {
		a.send(seq, time.Now(), "H100")
	}
	a.waitAcked(4)
	if sum := summaryOf(t, h.http, "e2e-future-grpc"); sum["clock_offset_seconds"] != nil {
		t.Errorf("clock offset still flagged after samples in range: %v", sum["clock_offset_seconds"])
	}
	if !strings.Contains(h.out.String(), "machine clock out of range") {
		t.Error("no warning about the clock in the hub's log")
	}

	assertHistoryAlive := func(when string) {
		t.Helper()
		if r := promQuery(t, h.http, `count({__name__=~".+"})`, year2999.Add(10*time.Second)); len(r.Data.Result) != 0 {
			t.Errorf("%s: samples stored in the year 2999: %v", when, r.Data.Result)
		}
		r := promQuery(t, h.http, `count_over_time(DCGM_FI_DEV_GPU_UTIL[10m])`, time.Time{})
		hosts := map[string]bool{}
		for _, s := range r.Data.Result {
			hosts[s.Metric["Hostname"]] = true
		}
		if !hosts["e2e-honest"] || !hosts["e2e-future-post"] || !hosts["e2e-future-grpc"] {
			t.Errorf("%s: count_over_time(DCGM_FI_DEV_GPU_UTIL[10m]) answers for %v", when, hosts)
		}
		n := len(seqs(t, h.http, "e2e-honest"))
		waitFor(t, when+": new samples stored", 30*time.Second, func() bool { return len(seqs(t, h.http, "e2e-honest")) >= n+3 })
		if refused := metric(t, h.http, `gpumon_hub_history_samples_total{result="refused"}`); refused != 0 {
			t.Errorf("%s: %v samples refused by history", when, refused)
		}
	}
	assertHistoryAlive("after the attempts")

	h.stop()
	h = startHub(t, dir, httpAddr, grpcAddr)
	waitFor(t, "honest agent back", 60*time.Second, func() bool { _, on := online(t, h.http, "e2e-honest"); return on })
	assertHistoryAlive("after a restart")
	entries, _ := os.ReadDir(dir + "/tsdb")
	for _, e := range entries {
		if blockDir.MatchString(e.Name()) {
			t.Errorf("the TSDB wrote block %s within a minute of starting", e.Name())
		}
	}
}

// An agent whose clock ran 20 s ahead and was then stepped back stays
// online, and its history keeps every snapshot once, in time order.
func TestCorrectedAgentClockStaysOnline(t *testing.T) {
	h := newHub(t)
	a := connectHand(t, h, helloFor("e2e-clockfix", "clockfix-id"))
	seq := uint64(0)
	for range 5 {
		seq++
		a.send(seq, time.Now().Add(20*time.Second), "H100")
		time.Sleep(time.Second)
	}
	// chrony steps the clock back by 20 s; the agent goes on for 15 s, longer
	// than the 10 s after which a silent machine is offline.
	var lastSent time.Time
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); {
		seq++
		lastSent = time.Now()
		a.send(seq, lastSent, "H100")
		time.Sleep(time.Second)
	}
	a.waitAcked(seq)
	sum := summaryOf(t, h.http, "e2e-clockfix")
	seen, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(sum["last_seen"]))
	if sum["online"] != true || seen.Before(lastSent) {
		t.Fatalf("online %v, last seen %v: a live machine whose clock was corrected looks dead", sum["online"], sum["last_seen"])
	}
	assertInOrderOnce(t, h.http, "e2e-clockfix", int(seq))
}

// assertInOrderOnce checks that the machine's gpumon_agent_seq holds 1..n
// once each at strictly increasing times.
func assertInOrderOnce(t *testing.T, base, key string, n int) {
	t.Helper()
	vals := rawSamples(t, base, fmt.Sprintf(`gpumon_agent_seq{machine=%q}`, key), time.Now().Add(time.Minute))
	var last float64
	for i, v := range vals {
		at, _ := strconv.ParseFloat(fmt.Sprint(v[0]), 64)
		if fmt.Sprint(v[1]) != strconv.Itoa(i+1) || (i > 0 && at <= last) {
			t.Fatalf("history of %s is not 1..%d once each in time order: %v", key, n, vals)
		}
		last = at
	}
	if len(vals) != n {
		t.Fatalf("history of %s holds %d snapshots, want %d", key, len(vals), n)
	}
}
