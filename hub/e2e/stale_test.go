package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"
)

// hostsCounted is count(DCGM_FI_DEV_GPU_UTIL) by (Hostname) on base, as of at.
func hostsCounted(t *testing.T, base string, at time.Time) []string {
	t.Helper()
	var out []string
	for _, s := range promQuery(t, base, `count(DCGM_FI_DEV_GPU_UTIL) by (Hostname)`, at).Data.Result {
		out = append(out, s.Metric["Hostname"])
	}
	slices.Sort(out)
	return out
}

// A machine that goes offline stops being counted by PromQL within the
// offline detection time, as a vanished target does in Prometheus; a
// forgotten one loses its online series too.
func TestOfflineMachineStopsCounting(t *testing.T) {
	h := newHub(t)
	gone := startAgent(t, h, "e2e-gone", "rtx4090x4")
	startAgent(t, h, "e2e-stays", "rtx4090x4")
	proxy := startProxy(t, h.grpc)
	start(t, "gpumon-agent", "--hub", proxy.addr(), "--token", agentToken, "--hostname", "e2e-cut",
		"--simulate", "rtx4090x4", "--interval", "1s")
	waitFor(t, "all three counted", 30*time.Second, func() bool { return len(hostsCounted(t, h.http, time.Time{})) == 3 })

	// A silent network cut: the machine is offline after max(3 × 1 s, 10 s).
	proxy.holed.Store(true)
	took := waitFor(t, "the cut-off machine no longer counted", 30*time.Second, func() bool {
		return !slices.Contains(hostsCounted(t, h.http, time.Time{}), "e2e-cut")
	})
	t.Logf("count(DCGM_FI_DEV_GPU_UTIL) by (Hostname) dropped a machine %s after its network was cut (offline after 10 s)", took.Round(100*time.Millisecond))
	// The markers sit 1 ms after its last sample, not at the time the hub
	// noticed: PromQL stops counting it from then on.
	vals := rawSamples(t, h.http, `gpumon_agent_seq{machine="e2e-cut"}`, time.Now())
	last, _ := strconv.ParseFloat(fmt.Sprint(vals[len(vals)-1][0]), 64)
	if at := time.UnixMilli(int64(last*1000) + 500); slices.Contains(hostsCounted(t, h.http, at), "e2e-cut") {
		t.Errorf("counted 0.5 s after its last sample (%v)", at)
	}

	gone.kill()
	took = waitFor(t, "the stopped machine no longer counted", 15*time.Second, func() bool {
		return slices.Equal(hostsCounted(t, h.http, time.Time{}), []string{"e2e-stays"})
	})
	t.Logf("count(DCGM_FI_DEV_GPU_UTIL) by (Hostname) dropped the stopped machine %s after SIGKILL of its agent", took.Round(100*time.Millisecond))
	if r := promQuery(t, h.http, `gpumon_machine_online{machine="e2e-gone"}`, time.Time{}); len(r.Data.Result) != 1 || r.Data.Result[0].Value[1] != "0" {
		t.Errorf("online series of the offline machine = %v, want 0", r.Data.Result)
	}
	if code, v, _ := call(t, http.MethodDelete, h.http+"/api/v1/machines/e2e-gone", adminToken, nil); code != http.StatusOK {
		t.Fatalf("forget: %d %v", code, v)
	}
	if r := promQuery(t, h.http, `{machine="e2e-gone"}`, time.Time{}); len(r.Data.Result) != 0 {
		t.Errorf("a forgotten machine still has current series: %v", r.Data.Result)
	}
	// Its history stays.
	if r := promQuery(t, h.http, `count_over_time(gpumon_agent_seq{machine="e2e-gone"}[10m])`, time.Time{}); len(r.Data.Result) != 1 {
		t.Errorf("the forgotten machine's history is gone: %v", r.Data.Result)
	}
}

// An agent stamps its samples 14 s ahead (within the 30 s allowed) and then
// disconnects. Remote write must take every batch (the offline markers land
// after its last sample, not at the hub's earlier clock), the remote store
// must hold what the hub holds, and its staleness markers reach it too.
func TestRemoteWriteTakesEveryBatch(t *testing.T) {
	bin := promBinary(t)
	promAddr := freeAddr(t)
	prom := "http://" + promAddr
	startPrometheus(t, bin, promAddr, "global: {evaluation_interval: 1s}\n")
	h := startHubForProm(t, prom)
	startAgent(t, h, "e2e-rw-ok", "rtx4090x4")
	a := connectHand(t, h, helloFor("e2e-rw-ahead", "rw-ahead-id"))
	for seq := uint64(1); seq <= 5; seq++ {
		a.send(seq, time.Now().Add(14*time.Second), "H100")
		time.Sleep(time.Second)
	}
	a.waitAcked(5)
	a.close()
	waitFor(t, "the machine offline", 15*time.Second, func() bool { _, on := online(t, h.http, "e2e-rw-ahead"); return !on })

	at := time.Now().Add(20 * time.Second) // after the future-stamped samples
	for _, expr := range []string{`gpumon_agent_seq{machine="e2e-rw-ahead"}`, `gpumon_machine_online{machine="e2e-rw-ahead"}`} {
		ours := rawSamples(t, h.http, expr, at)
		waitFor(t, "remote store to hold "+expr, 30*time.Second, func() bool {
			return len(rawSamples(t, prom, expr, at)) >= len(ours)
		})
		if theirs := rawSamples(t, prom, expr, at); len(ours) < 5 || !slices.Equal(ours, theirs) {
			t.Errorf("%s differs:\nhub        %v\nPrometheus %v", expr, ours, theirs)
		}
	}
	if refused := metric(t, h.http, `gpumon_hub_remote_write_samples_total{result="refused"}`); refused != 0 {
		t.Errorf("the remote store refused %v samples", refused)
	}
	if got := hostsCounted(t, prom, at); !slices.Equal(got, []string{"e2e-rw-ok"}) {
		t.Errorf("remote count(DCGM_FI_DEV_GPU_UTIL) by (Hostname) = %v: staleness markers did not reach it", got)
	}
}
