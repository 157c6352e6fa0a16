package e2e

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAgentScrapeTarget: Debian's prometheus scrapes an agent started with
// --metrics-addr and the hub side by side. The agent serves, for its own
// machine, the series the hub serves, under the same names and labels, with
// the same types.
func TestAgentScrapeTarget(t *testing.T) {
	bin := promBinary(t)
	h := newHub(t)
	agentAddr := freeAddr(t)
	startAgent(t, h, "scraped", "dgxh100", "--metrics-addr", agentAddr)
	promAddr := freeAddr(t)
	startPrometheus(t, bin, promAddr, scrapeConfig(map[string]string{"agent": agentAddr, "hub": strings.TrimPrefix(h.http, "http://")}))
	prom := "http://" + promAddr
	waitFor(t, "Prometheus to scrape the agent's GPM activity and the hub's", 90*time.Second, func() bool {
		for _, job := range []string{"agent", "hub"} {
			r := promQuery(t, prom, fmt.Sprintf(`DCGM_FI_PROF_GR_ENGINE_ACTIVE{job=%q}`, job), time.Time{})
			if len(r.Data.Result) != 8 {
				return false
			}
		}
		return true
	})
	if r := promQuery(t, prom, `up{job="agent"}`, time.Time{}); len(r.Data.Result) != 1 || r.Data.Result[0].Value[1] != "1" {
		t.Errorf("up = %+v", r.Data.Result)
	}

	// The same series from both, job and instance aside.
	selector := `{__name__=~"DCGM_.*|gpumon_gpu_processes|gpumon_machine_(cpu|memory|disk|load).*", Hostname="scraped", job=%q}`
	sets := map[string][]string{}
	for _, job := range []string{"agent", "hub"} {
		for _, s := range promQuery(t, prom, fmt.Sprintf(selector, job), time.Time{}).Data.Result {
			delete(s.Metric, "job")
			delete(s.Metric, "instance")
			var parts []string
			for _, k := range slices.Sorted(maps.Keys(s.Metric)) {
				parts = append(parts, k+"="+s.Metric[k])
			}
			sets[job] = append(sets[job], strings.Join(parts, ","))
		}
		slices.Sort(sets[job])
	}
	if len(sets["agent"]) < 8*25 || !slices.Equal(sets["agent"], sets["hub"]) {
		t.Errorf("series differ: agent %d, hub %d\nonly the agent's: %v\nonly the hub's: %v", len(sets["agent"]), len(sets["hub"]),
			missing(sets["agent"], sets["hub"]), missing(sets["hub"], sets["agent"]))
	}
	for _, name := range []string{"DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"} {
		_, body := fetch(t, prom+"/api/v1/metadata?metric="+name)
		if !strings.Contains(body, `"type":"counter"`) {
			t.Errorf("Prometheus's metadata of %s: %s", name, body)
		}
	}
	if r := promQuery(t, prom, `gpumon_agent_collector_success{job="agent",collector="gpu"}`, time.Time{}); len(r.Data.Result) != 1 || r.Data.Result[0].Value[1] != "1" {
		t.Errorf("collector success = %+v", r.Data.Result)
	}
}

// missing lists the elements of a that b lacks (both sorted).
func missing(a, b []string) []string {
	var out []string
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); !ok {
			out = append(out, x)
		}
	}
	return out
}
