package e2e

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestLoadgenSpreadsItsAgents: gpumon-loadgen --spread starts its agents
// evenly over one interval, as a real fleet's agents sample at different
// moments (4 agents every 8 s: 2 s apart); without it they all start, and
// sample, at once. Read from the hub: the machines' first_seen.
func TestLoadgenSpreadsItsAgents(t *testing.T) {
	h := newHub(t)
	for _, c := range []struct {
		prefix string
		spread bool
	}{{"together", false}, {"spread", true}} {
		args := []string{"--hub", h.grpc, "--token", h.agentToken, "--agents", "4", "--interval", "8s", "--duration", "30s", "--prefix", c.prefix}
		if c.spread {
			args = append(args, "--spread")
		}
		lg := start(t, "gpumon-loadgen", args...)
		var first []time.Time
		waitFor(t, c.prefix+": 4 machines seen", 60*time.Second, func() bool {
			first = first[:0]
			var list struct {
				Machines []struct {
					Key       string    `json:"key"`
					FirstSeen time.Time `json:"first_seen"`
				} `json:"machines"`
			}
			getJSON(t, h.http+"/api/v1/machines", &list)
			for _, m := range list.Machines {
				if strings.HasPrefix(m.Key, c.prefix+"-") {
					first = append(first, m.FirstSeen)
				}
			}
			return len(first) == 4
		})
		lg.stop()
		span := slices.MaxFunc(first, time.Time.Compare).Sub(slices.MinFunc(first, time.Time.Compare))
		t.Logf("%s: first samples over %s", c.prefix, span)
		// Spread: 6 s from the first agent's start to the last's (0, 2, 4,
		// 6 s); together: the same instant, give or take the connections.
		if c.spread && span < 4*time.Second || !c.spread && span > 4*time.Second {
			t.Errorf("%s: the 4 agents' first samples lie %s apart", c.prefix, span)
		}
	}
}
