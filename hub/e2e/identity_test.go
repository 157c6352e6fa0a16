package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// publicText is everything a reader can fetch about the fleet: the REST
// reads, a few watch events, /metrics and the history's labels.
func publicText(t *testing.T, base string) string {
	t.Helper()
	var b strings.Builder
	for _, path := range []string{"/api/gpu-stats", "/api/v1/machines", "/metrics", "/api/v1/series?match[]=" + url.QueryEscape(`{machine=~".+"}`)} {
		text := getText(t, base+path)
		if !strings.Contains(text, "e2e-") {
			t.Fatalf("%s does not list the fleet: %.300s", path, text)
		}
		b.WriteString(text)
	}
	for _, m := range machines(t, base) {
		b.WriteString(getText(t, base+"/api/v1/machines/"+fmt.Sprint(m.(map[string]any)["hostname"])))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, l := range readLines(ctx, t, base+"/api/v1/watch?include_report=true", 3) {
		fmt.Fprint(&b, l)
	}
	return b.String()
}

// A stream that claims a known machine (its hostname and machine id, with a
// huge epoch and sequence numbers) without the machine's secret is listed
// apart as a conflict: the real agent stays the machine, its snapshots keep
// being acknowledged and recorded, and kills go to it alone.
func TestImpostorIsAConflictNotATakeover(t *testing.T) {
	h := newHub(t)
	state := t.TempDir()
	real := startAgent(t, h, "e2e-victim", "rtx4090x4", "--allow-kill", "--state-dir", state)
	waitFor(t, "the real agent", 20*time.Second, func() bool { return len(seqs(t, h.http, "e2e-victim")) >= 3 })
	id := localMachineID(t)

	if text := publicText(t, h.http); strings.Contains(text, id) {
		t.Fatalf("the machine id %s is published", id)
	}
	fp := fleet.Fingerprint(id)
	if sum := summaryOf(t, h.http, "e2e-victim"); sum["machine_fingerprint"] != fp || sum["machine_id"] != "" {
		t.Errorf("summary identity: fingerprint %v, machine_id %v; want %s and nothing", sum["machine_fingerprint"], sum["machine_id"], fp)
	}

	fake := connectHand(t, h, &gpumonv1.Hello{Hostname: "e2e-victim", MachineId: id, Epoch: 1 << 62,
		Capabilities: []string{"kill", "machine_secret"}})
	if !fake.welcome.GetIdentityConflict() || fake.welcome.GetMachineKey() == "e2e-victim" {
		t.Fatalf("impostor welcomed as %q (conflict %v)", fake.welcome.GetMachineKey(), fake.welcome.GetIdentityConflict())
	}
	if k := fake.welcome.GetMachineKey(); strings.Contains(k, id[:8]) || !strings.HasPrefix(k, "e2e-victim@") {
		t.Errorf("conflict key %q: want e2e-victim@<fingerprint>, without characters of the id", k)
	}
	for seq := uint64(1 << 40); seq < 1<<40+5; seq++ {
		fake.send(seq, time.Now(), "FORGED")
	}
	fake.waitAcked(1<<40 + 4)

	before := len(seqs(t, h.http, "e2e-victim"))
	waitFor(t, "the real agent's snapshots recorded", 20*time.Second, func() bool { return len(seqs(t, h.http, "e2e-victim")) >= before+3 })
	assertEverySeqOnce(t, seqs(t, h.http, "e2e-victim"), before+3)
	sum := summaryOf(t, h.http, "e2e-victim")
	if sum["online"] != true || sum["source"] != "agent" || sum["can_kill"] != true || sum["hostname_conflict"] != true {
		t.Errorf("the real machine: online %v, source %v, can_kill %v, conflict %v", sum["online"], sum["source"], sum["can_kill"], sum["hostname_conflict"])
	}
	if strings.Contains(fmt.Sprint(machines(t, h.http)["e2e-victim"]), "FORGED") {
		t.Error("the impostor's data is served as the real machine")
	}
	if other := summaryOf(t, h.http, fake.welcome.GetMachineKey()); other["hostname_conflict"] != true {
		t.Errorf("the impostor's entry is not flagged: %v", other)
	}

	code, v, _ := call(t, http.MethodPost, h.http+"/api/kill-processes", adminToken, strings.NewReader(`{"hostname":"e2e-victim","pids":[1]}`))
	if code != http.StatusOK || strings.Contains(fmt.Sprint(v), "FAKE") || !strings.Contains(fmt.Sprint(v), "never") {
		t.Errorf("kill answered %d %v: want the real agent's refusal of PID 1", code, v)
	}
	if n := fake.commands(); n != 0 {
		t.Errorf("the impostor received %d commands", n)
	}

	// The real agent restarts: its state directory proves who it is.
	real.kill()
	startAgent(t, h, "e2e-victim", "rtx4090x4", "--allow-kill", "--state-dir", state)
	waitFor(t, "the real agent back", 20*time.Second, func() bool { _, on := online(t, h.http, "e2e-victim"); return on })
	if n := len(machines(t, h.http)); n != 2 {
		t.Errorf("%d machines after the real agent's restart, want 2 (it is still e2e-victim)", n)
	}
}

// Forgetting a machine forgets its secret: an agent with a new state
// directory is then welcomed as the machine.
func TestForgetResetsTheMachineSecret(t *testing.T) {
	h := newHub(t)
	a := startAgent(t, h, "e2e-reinstalled", "rtx4090x4")
	waitFor(t, "agent online", 20*time.Second, func() bool { _, on := online(t, h.http, "e2e-reinstalled"); return on })
	a.kill()
	waitFor(t, "machine offline", 20*time.Second, func() bool { _, on := online(t, h.http, "e2e-reinstalled"); return !on })

	// Reinstalled without its state directory: a conflict, until forgotten.
	b := startAgent(t, h, "e2e-reinstalled", "rtx4090x4")
	waitFor(t, "second entry", 20*time.Second, func() bool { return len(machines(t, h.http)) == 2 })
	b.kill()
	code, v, _ := call(t, http.MethodDelete, h.http+"/api/v1/machines/e2e-reinstalled", adminToken, nil)
	if code != http.StatusOK {
		t.Fatalf("forget: %d %v", code, v)
	}
	for key := range machines(t, h.http) {
		waitFor(t, "conflict entry offline", 20*time.Second, func() bool { _, on := online(t, h.http, key); return !on })
		if code, v, _ := call(t, http.MethodDelete, h.http+"/api/v1/machines/"+key, adminToken, nil); code != http.StatusOK {
			t.Fatalf("forget %s: %d %v", key, code, v)
		}
	}
	startAgent(t, h, "e2e-reinstalled", "rtx4090x4")
	waitFor(t, "welcomed under its hostname", 20*time.Second, func() bool { _, on := online(t, h.http, "e2e-reinstalled"); return on })
	if n := len(machines(t, h.http)); n != 1 {
		t.Errorf("%d machines, want 1", n)
	}
}

// Under --legacy-open an anonymous POST carrying an agent's hostname and
// machine id gets its own entry: the agent's machine keeps its source, its
// kill rights and its history.
func TestLegacyPostNeverMergesIntoAnAgent(t *testing.T) {
	h := newHub(t, "--legacy-open")
	startAgent(t, h, "e2e-owned", "rtx4090x4", "--allow-kill")
	waitFor(t, "agent online", 20*time.Second, func() bool { _, on := online(t, h.http, "e2e-owned"); return on })
	body := fmt.Sprintf(`{"hostname":"e2e-owned","machine_id":%q,"gpu_data":[{"id":0,"name":"FORGED","utilization":1,"memory_used":1,"memory_total":2}]}`,
		localMachineID(t))
	if code, v := postJSON(t, h.http+"/api/report-gpu-stats", "", body); code != http.StatusOK {
		t.Fatalf("POST: %d %v", code, v)
	}
	time.Sleep(2 * time.Second)
	sum := summaryOf(t, h.http, "e2e-owned")
	if sum["source"] != "agent" || sum["can_kill"] != true || sum["online"] != true {
		t.Errorf("the agent's machine after the POST: source %v, can_kill %v, online %v", sum["source"], sum["can_kill"], sum["online"])
	}
	if legacy := summaryOf(t, h.http, "e2e-owned@legacy"); legacy["source"] != "legacy" || legacy["hostname_conflict"] != true {
		t.Errorf("the POST's entry: %v", legacy)
	}
	if r := promQuery(t, h.http, `DCGM_FI_DEV_FB_USED{machine="e2e-owned",modelName="FORGED"}`, time.Time{}); len(r.Data.Result) != 0 {
		t.Errorf("forged series in the agent's history: %v", r.Data.Result)
	}
	if r := promQuery(t, h.http, `DCGM_FI_DEV_FB_USED{machine="e2e-owned@legacy",modelName="FORGED"}`, time.Time{}); len(r.Data.Result) != 1 {
		t.Errorf("the POST's own series: %v", r.Data.Result)
	}
}
