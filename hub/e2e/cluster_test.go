package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The failure cases of several hubs sharing the fleet through a real
// 3-node NATS JetStream cluster (Debian's nats-server), each on loopback.

// Case 1: 3 hubs, 30 simulated agents spread over them: every hub lists
// all 30, each with the hub that holds it, and the holders are the three.
func TestClusterEveryHubListsTheWholeFleet(t *testing.T) {
	t.Parallel()
	_, hubs := startCluster(t, []string{"hub-a", "hub-b", "hub-c"})
	began := time.Now()
	startLoad(t, hubs, 30, "c1")
	holders := map[string]int{}
	for _, h := range hubs {
		took := waitFor(t, "30 machines on "+h.http, 60*time.Second, func() bool {
			n := 0
			for key, v := range machines(t, h.http) {
				m := v.(map[string]any)
				if strings.HasPrefix(key, "c1-") && m["is_online"] == true && m["hub"] != "" {
					n++
				}
			}
			return n == 30
		})
		t.Logf("%s lists all 30 machines online %s after the agents started (%s after its own wait began)",
			h.http, time.Since(began).Round(10*time.Millisecond), took.Round(10*time.Millisecond))
	}
	for key, v := range machines(t, hubs[0].http) {
		if strings.HasPrefix(key, "c1-") {
			holders[fmt.Sprint(v.(map[string]any)["hub"])]++
		}
	}
	// Every hub names the same holder for each machine.
	for _, h := range hubs[1:] {
		for key, v := range machines(t, h.http) {
			if !strings.HasPrefix(key, "c1-") {
				continue
			}
			want, _, _ := holder(t, hubs[0].http, key)
			if got := fmt.Sprint(v.(map[string]any)["hub"]); got != want {
				t.Errorf("%s says %s is held by %q, hub-a says %q", h.http, key, got, want)
			}
		}
	}
	if len(holders) != 3 {
		t.Errorf("machines per holding hub = %v, want the 30 spread over hub-a, hub-b and hub-c", holders)
	}
	t.Logf("machines per holding hub: %v", holders)
}

// Case 6: two hubs, one agent flapping between them every few seconds for
// a minute: its sequence numbers reach history each exactly once across
// both hubs, none is lost, and it is never a conflict.
func TestClusterFlappingAgent(t *testing.T) {
	t.Parallel()
	_, hubs := startCluster(t, []string{"hub-a", "hub-b"})
	a, b := hubs[0], hubs[1]
	pa, pb := startProxy(t, a.grpc), startProxy(t, b.grpc)
	agent := start(t, "gpumon-agent", "--hub", pa.addr()+","+pb.addr(), "--token", agentToken, "--hostname", "c6-flap",
		"--simulate", "rtx4090x2", "--interval", "500ms")
	waitFor(t, "agent online", 30*time.Second, func() bool { _, on := online(t, a.http, "c6-flap"); return on })

	// Every 3 s the hub holding the stream drops it, as a load balancer
	// draining a hub would: the agent reconnects to the other one.
	moves := map[string]int{}
	until := time.Now().Add(time.Minute)
	for time.Now().Before(until) {
		time.Sleep(3 * time.Second)
		name, _, _ := holder(t, a.http, "c6-flap")
		moves[name]++
		pa.cut()
		pb.cut()
		for _, h := range []*hub{a, b} {
			for key := range machines(t, h.http) {
				if strings.HasPrefix(key, "c6-flap@") {
					t.Fatalf("%s lists a conflict entry %s for the flapping agent", h.http, key)
				}
			}
		}
	}
	if moves["hub-a"] == 0 || moves["hub-b"] == 0 {
		t.Errorf("the agent was held by %v at the cuts: it did not move between the hubs", moves)
	}
	waitFor(t, "agent settled", 30*time.Second, func() bool {
		_, onA := online(t, a.http, "c6-flap")
		_, onB := online(t, b.http, "c6-flap")
		return onA && onB
	})
	time.Sleep(3 * time.Second)
	agent.stop()
	// History is per hub here (no shared store): together the two hold
	// every sequence number once, except a snapshot the hub losing the
	// stream had appended to its own history but not yet committed to
	// the cluster: unacknowledged, the agent replays it to the other hub,
	// which was told only what the cluster holds (the README: a shared
	// store deduplicates it; two embedded stores cannot).
	var got []int
	waitFor(t, "history on both hubs", 30*time.Second, func() bool {
		got = mergeSeqs(seqs(t, a.http, "c6-flap"), seqs(t, b.http, "c6-flap"))
		return len(got) > 60
	})
	assertEverySeqOnceOverHubs(t, got, 60, replayedAfterMoves(agent.out.String()))
	t.Logf("%d snapshots, each recorded once over the two hubs; holders at the cuts: %v", len(got), moves)
	if strings.Contains(agent.out.String(), "conflict") {
		t.Errorf("agent log mentions a conflict:\n%s", agent.out.String())
	}
}

var (
	streamEndedRe = regexp.MustCompile(`stream to hub ended.* buffered=(\d+)`)
	connectedRe   = regexp.MustCompile(`connected to hub.* hub_last_seq=(\d+)`)
)

// replayedAfterMoves reads an agent's log for the snapshots it replayed
// to a hub after its stream to another ended with snapshots unacknowledged:
// for each "stream to hub ended … buffered=N" followed by "connected to hub
// … hub_last_seq=L", the sequence numbers L+1..L+N.
func replayedAfterMoves(log string) map[int]bool {
	out := map[int]bool{}
	buffered := 0
	for _, line := range strings.Split(log, "\n") {
		if m := streamEndedRe.FindStringSubmatch(line); m != nil {
			buffered, _ = strconv.Atoi(m[1])
		}
		if m := connectedRe.FindStringSubmatch(line); m != nil {
			last, _ := strconv.Atoi(m[1])
			for s := last + 1; s <= last+buffered; s++ {
				out[s] = true
			}
			buffered = 0
		}
	}
	return out
}

// assertEverySeqOnceOverHubs is assertEverySeqOnce for the merged history
// of several hubs: a sequence number in replayed may be there twice.
func assertEverySeqOnceOverHubs(t *testing.T, got []int, atLeast int, replayed map[int]bool) {
	t.Helper()
	var once []int
	for i, s := range got {
		if i > 0 && s == got[i-1] && replayed[s] {
			t.Logf("snapshot %d is in both hubs' history: appended by the hub that lost the stream before the cluster held it, replayed to the other", s)
			continue
		}
		once = append(once, s)
	}
	assertEverySeqOnce(t, once, atLeast)
}

// mergeSeqs merges two hubs' sequence numbers into one sorted list,
// keeping duplicates (so that assertEverySeqOnce sees them).
func mergeSeqs(a, b []int) []int {
	out := append(append([]int(nil), a...), b...)
	slices.Sort(out)
	return out
}

// Case 3: a kill sent to hub A for a machine whose stream hub C holds
// reaches the agent through C, and the agent's real result comes back on A.
func TestClusterKillThroughAnotherHub(t *testing.T) {
	t.Parallel()
	_, hubs := startCluster(t, []string{"hub-a", "hub-c"})
	a, c := hubs[0], hubs[1]
	pid, exited := startVictim(t)

	agent := startAgent(t, c, "c3-kill", "rtx4090x2", "--allow-kill", "--allow-kill-non-gpu")
	waitFor(t, "hub A sees the victim in c3-kill's report", 30*time.Second, func() bool {
		m, ok := machines(t, a.http)["c3-kill"].(map[string]any)
		return ok && m["hub"] == "hub-c" && strings.Contains(fmt.Sprint(m["system_info"]), fmt.Sprintf("pid:%d ", pid))
	})
	body := fmt.Sprintf(`{"hostname": "c3-kill", "pids": [%d]}`, pid)
	code, v, _ := call(t, http.MethodPost, a.http+"/api/kill-processes", adminToken, strings.NewReader(body))
	if code != http.StatusOK {
		t.Fatalf("kill on hub A: %d %v", code, v)
	}
	resp := v.(map[string]any)
	results, _ := resp["results"].([]any)
	if resp["status"] != "success" || len(results) != 1 || results[0].(map[string]any)["pid"] != json.Number(fmt.Sprint(pid)) {
		t.Fatalf("kill response on hub A = %v, want the agent's success for PID %d", resp, pid)
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the victim is still running after hub A reported the kill done")
	}
	// A PID the agent does not report is refused by the agent itself, and
	// that refusal is what hub A answers.
	code, v, _ = call(t, http.MethodPost, a.http+"/api/kill-processes", adminToken, strings.NewReader(`{"hostname": "c3-kill", "pids": [1]}`))
	if code != http.StatusOK || v.(map[string]any)["status"] != "error" || !strings.Contains(fmt.Sprint(v), "never") {
		t.Errorf("kill of PID 1 through hub A: %d %v, want the agent's refusal", code, v)
	}

	// Forgotten on hub A once offline, the machine is gone from hub C too.
	agent.kill()
	waitFor(t, "c3-kill offline on hub A", 30*time.Second, func() bool { _, on, _ := holder(t, a.http, "c3-kill"); return !on })
	if code, v, _ := call(t, http.MethodDelete, a.http+"/api/v1/machines/c3-kill", adminToken, nil); code != http.StatusOK {
		t.Fatalf("forget on hub A: %d %v", code, v)
	}
	waitFor(t, "c3-kill forgotten on hub C", 30*time.Second, func() bool {
		_, listed := machines(t, c.http)["c3-kill"]
		return !listed
	})
}

// Case 2: SIGKILL one of three hubs sharing a history store
// (VictoriaMetrics, by remote write; read back with --history-url). Its
// agents reconnect to the others; a surviving hub never stops listing a
// machine, shows it "reconnecting" (never plain offline) until its agent is
// back, and every sequence number sampled reaches history exactly once.
func TestClusterHubKilled(t *testing.T) {
	t.Parallel()
	vm := startVictoriaMetrics(t)
	_, hubs := startCluster(t, []string{"hub-a", "hub-b", "hub-c"}, "--remote-write-url", vm+"/api/v1/write", "--history-url", vm)
	const agents = 9
	load := startLoad(t, hubs, agents, "c2")
	held := map[string][]string{}
	waitFor(t, "every machine online on every hub", 60*time.Second, func() bool {
		clear(held)
		for _, h := range hubs {
			n := 0
			for key, v := range machines(t, h.http) {
				if m := v.(map[string]any); strings.HasPrefix(key, "c2-") && m["is_online"] == true {
					n++
					if h == hubs[0] {
						held[fmt.Sprint(m["hub"])] = append(held[fmt.Sprint(m["hub"])], key)
					}
				}
			}
			if n != agents {
				return false
			}
		}
		return true
	})
	time.Sleep(5 * time.Second) // some history before the kill
	// Kill the hub that holds the most machines.
	victim, survivor := hubs[0], hubs[1]
	for i, h := range hubs {
		if len(held[victimName(hubs, h)]) > len(held[victimName(hubs, victim)]) {
			victim, survivor = h, hubs[(i+1)%3]
		}
	}
	moved := held[victimName(hubs, victim)]
	if len(moved) == 0 {
		t.Fatalf("the hub to kill holds no machine: %v", held)
	}
	// One more agent knows only the hub to be killed: it cannot move.
	startLoad(t, []*hub{victim}, 1, "c2lone")
	waitFor(t, "the lone agent online on the surviving hub", 30*time.Second, func() bool {
		_, on, _ := holder(t, survivor.http, "c2lone-0001")
		return on
	})

	// Watch the survivor's page data through the kill.
	type spell struct{ reconnecting, offline time.Duration }
	worst := map[string]*spell{}
	stop := make(chan struct{})
	watched := make(chan error, 1)
	go func() {
		last := time.Now()
		for {
			select {
			case <-stop:
				watched <- nil
				return
			case <-time.After(200 * time.Millisecond):
			}
			now := time.Now()
			all := machines(t, survivor.http)
			for i := range agents {
				key := fmt.Sprintf("c2-%04d", i+1)
				m, ok := all[key].(map[string]any)
				if !ok {
					watched <- fmt.Errorf("the surviving hub does not list %s", key)
					return
				}
				if worst[key] == nil {
					worst[key] = &spell{}
				}
				switch {
				case m["reconnecting"] == true:
					worst[key].reconnecting += now.Sub(last)
				case m["is_online"] != true:
					worst[key].offline += now.Sub(last)
				}
			}
			last = now
		}
	}()
	victim.kill()
	killed := time.Now()
	waitFor(t, "the killed hub's machines back on the others", 60*time.Second, func() bool {
		for _, key := range moved {
			name, on, _ := holder(t, survivor.http, key)
			if !on || name == victimName(hubs, victim) {
				return false
			}
		}
		return true
	})
	back := time.Since(killed)
	lone := waitFor(t, "the lone agent's machine marked reconnecting", 30*time.Second, func() bool {
		_, on, reconnecting := holder(t, survivor.http, "c2lone-0001")
		return reconnecting && !on
	})
	t.Logf("a machine whose agent cannot reach another hub was marked reconnecting %s after the kill (--cluster-keepalive 3s)", (back + lone).Round(100*time.Millisecond))
	time.Sleep(5 * time.Second) // more history after the move
	close(stop)
	if err := <-watched; err != nil {
		t.Fatal(err)
	}
	for key, s := range worst {
		if s.offline > 0 {
			t.Errorf("%s was shown offline for %s (not reconnecting) on the surviving hub", key, s.offline.Round(100*time.Millisecond))
		}
		if s.reconnecting > 0 {
			t.Logf("%s reconnecting for %s on the surviving hub", key, s.reconnecting.Round(100*time.Millisecond))
		}
	}
	t.Logf("the %d machines of the killed hub were online on the others %s after the kill", len(moved), back.Round(100*time.Millisecond))
	load.stop()
	for i := range agents {
		key := fmt.Sprintf("c2-%04d", i+1)
		var got []int
		waitFor(t, "history of "+key+" in the shared store", 30*time.Second, func() bool {
			got = seqs(t, survivor.http, key)
			return len(got) >= 10
		})
		assertEverySeqOnce(t, got, 10)
	}
}

// victimName is the cluster name of one of hubs (hub-a, hub-b, hub-c by
// position).
func victimName(hubs []*hub, h *hub) string {
	for i, x := range hubs {
		if x == h {
			return "hub-" + string(rune('a'+i))
		}
	}
	return ""
}

// onlineCount counts the machines with prefix that a hub lists online.
func onlineCount(t *testing.T, base, prefix string) int {
	n := 0
	for key, v := range machines(t, base) {
		if strings.HasPrefix(key, prefix) && v.(map[string]any)["is_online"] == true {
			n++
		}
	}
	return n
}

// Case 4: SIGKILL one of the three NATS nodes: every hub keeps listing
// every machine online; restarted, the node catches up (a hub that knows
// only that node lists the whole fleet).
func TestClusterNATSNodeLost(t *testing.T) {
	t.Parallel()
	nats, hubs := startCluster(t, []string{"hub-a", "hub-b"})
	const agents = 6
	startLoad(t, hubs, agents, "c4")
	for _, h := range hubs {
		waitFor(t, "every machine online", 60*time.Second, func() bool { return onlineCount(t, h.http, "c4-") == agents })
	}
	nats.nodes[0].kill()
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
		for _, h := range hubs {
			if n := onlineCount(t, h.http, "c4-"); n != agents {
				t.Fatalf("%s lists %d of %d machines online with one NATS node down", h.http, n, agents)
			}
		}
	}
	nats.restart(0)
	only := clusterHub(t, "nats://"+nats.nodes[0].client, "hub-late")
	took := waitFor(t, "a hub on the restarted node only to list the fleet", 60*time.Second, func() bool {
		return onlineCount(t, only.http, "c4-") == agents
	})
	t.Logf("a hub that knows only the restarted node listed all %d machines online %s after answering /healthz", agents, took.Round(100*time.Millisecond))
	for _, h := range hubs {
		if !ready(h.http) {
			t.Errorf("%s is not ready after the node came back", h.http)
		}
	}
}

// Case 5: every NATS node down: each hub keeps serving the machines it
// holds, /readyz says the hub is degraded, and once NATS is back the
// cluster view heals and no snapshot is lost.
func TestClusterAllNATSDown(t *testing.T) {
	t.Parallel()
	nats, hubs := startCluster(t, []string{"hub-a", "hub-b"})
	const agents = 6
	load := startLoad(t, hubs, agents, "c5")
	held := map[*hub][]string{}
	for _, h := range hubs {
		waitFor(t, "every machine online", 60*time.Second, func() bool { return onlineCount(t, h.http, "c5-") == agents })
	}
	for i, h := range hubs {
		for key := range machines(t, h.http) {
			if name, _, _ := holder(t, h.http, key); strings.HasPrefix(key, "c5-") && name == []string{"hub-a", "hub-b"}[i] {
				held[h] = append(held[h], key)
			}
		}
	}
	for _, n := range nats.nodes {
		n.kill()
	}
	for _, h := range hubs {
		waitFor(t, "/readyz to say the hub is degraded", 30*time.Second, func() bool {
			code, v, _ := call(t, http.MethodGet, h.http+"/readyz", "", nil)
			return code == http.StatusServiceUnavailable && strings.Contains(fmt.Sprint(v), "NATS")
		})
	}
	time.Sleep(15 * time.Second) // longer than the offline limit (10 s)
	for _, h := range hubs {
		for _, key := range held[h] {
			if _, on, _ := holder(t, h.http, key); !on {
				t.Errorf("%s does not serve %s, which it holds, online while NATS is down", h.http, key)
			}
		}
	}
	for i := range nats.nodes {
		nats.restart(i)
	}
	for _, h := range hubs {
		took := waitFor(t, "the cluster view to heal", 90*time.Second, func() bool {
			return ready(h.http) && onlineCount(t, h.http, "c5-") == agents
		})
		t.Logf("%s: whole fleet online and ready %s after NATS came back", h.http, took.Round(100*time.Millisecond))
	}
	time.Sleep(3 * time.Second)
	load.stop()
	// History is per hub here: each machine stayed with its hub.
	for i := range agents {
		key := fmt.Sprintf("c5-%04d", i+1)
		got := mergeSeqs(seqs(t, hubs[0].http, key), seqs(t, hubs[1].http, key))
		assertEverySeqOnce(t, got, 25)
	}
}
