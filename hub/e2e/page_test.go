package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"testing"
	"time"
)

// num reads a JSON number (the harness decodes with UseNumber).
func num(t *testing.T, v any) float64 {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("%v (%T) is not a number", v, v)
	}
	f, err := n.Float64()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// rowSums adds up the GPU-hours and GiB-hours of usage rows.
func rowSums(t *testing.T, rows any) (hours, gib float64) {
	t.Helper()
	for _, r := range rows.([]any) {
		row := r.(map[string]any)
		hours += num(t, row["gpu_hours"])
		gib += num(t, row["gpu_memory_gib_hours"])
	}
	return hours, gib
}

// TestUsageAddsUpOnARunningHub: simulated agents and loadgen machines
// (whose users share GPUs) report to a real hub; once they have stopped,
// the users' GPU memory GiB-hours equal the machines', the users'
// GPU-hours cover the machines', and the total is the machines' sum.
func TestUsageAddsUpOnARunningHub(t *testing.T) {
	h := newHub(t)
	begin := time.Now()
	a := startAgent(t, h, "e2e-dgx", "dgxh100")
	b := startAgent(t, h, "e2e-4090", "rtx4090x4")
	lg := start(t, "gpumon-loadgen", "--hub", h.grpc, "--token", h.agentToken, "--agents", "3", "--interval", "1s",
		"--duration", "12s", "--prefix", "e2e-load")
	waitFor(t, "loadgen to finish", 60*time.Second, lg.exited)
	a.stop()
	b.stop()
	// Every sample the agents sent is acknowledged, so stored: nothing is
	// appended while the usage is read.
	u := get(t, fmt.Sprintf("%s/api/v1/usage?start=%s&end=%s", h.http,
		begin.Add(-time.Minute).UTC().Format(time.RFC3339), time.Now().Add(time.Minute).UTC().Format(time.RFC3339))).(map[string]any)
	uh, ug := rowSums(t, u["users"])
	mh, mg := rowSums(t, u["machines"])
	if len(u["machines"].([]any)) != 5 {
		t.Errorf("usage lists %d machines, want 5: %v", len(u["machines"].([]any)), u["machines"])
	}
	if mg <= 0 || math.Abs(ug-mg) > 1e-9*mg {
		t.Errorf("GPU memory: users %.12f GiB-hours, machines %.12f; want equal and above 0", ug, mg)
	}
	if mh <= 0 || uh < mh-1e-12 {
		t.Errorf("GPU-hours: users %.9f, machines %.9f; the users' must cover the machines'", uh, mh)
	}
	total := u["total"].(map[string]any)
	if th, tg := num(t, total["gpu_hours"]), num(t, total["gpu_memory_gib_hours"]); math.Abs(th-mh) > 1e-9 || math.Abs(tg-mg) > 1e-9 {
		t.Errorf("total = %v, want the machines' sums %.9f h, %.9f GiB-h", total, mh, mg)
	}
}

// idleReport is a posted report of a machine whose GPU 0 holds memory at 0 %
// for bob and whose GPU 1 works for alice.
func idleReport(host string) []byte {
	b, _ := json.Marshal(map[string]any{
		"hostname": host,
		"gpu_data": []any{
			map[string]any{"id": 0, "name": "NVIDIA H100 80GB HBM3", "memory_used": 30000, "memory_total": 81559, "utilization": 0,
				"processes": []any{map[string]any{"pid": 4242, "name": "python", "username": "bob", "gpu_memory_usage": 30000}},
				"idle_held": false},
			map[string]any{"id": 1, "name": "NVIDIA H100 80GB HBM3", "memory_used": 60000, "memory_total": 81559, "utilization": 97,
				"processes": []any{map[string]any{"pid": 4343, "name": "python", "username": "alice", "gpu_memory_usage": 60000}},
				"idle_held": true, "idle_since": "2020-01-01T00:00:00Z"},
		},
		"system_info": map[string]any{"cpu_percent": 3},
	})
	return b
}

// TestIdleHeldAgreesEverywhere: the machine's GPU (what a card shows), its
// summary, the fleet totals and the usage list say the same about idle
// GPUs, first "idle but not yet for --idle-after", then "idle-held"; what a
// report claims about it is ignored.
func TestIdleHeldAgreesEverywhere(t *testing.T) {
	h := newHub(t, "--idle-after", "4s")
	post := func() {
		code, v, _ := call(t, http.MethodPost, h.http+"/api/report-gpu-stats", agentToken, bytes.NewReader(idleReport("e2e-idle")))
		if code != http.StatusOK {
			t.Fatalf("POST: %d %v", code, v)
		}
	}
	type view struct {
		since          any
		held, busyHeld bool
		summary, total float64
		listed         int
	}
	look := func() view {
		m := get(t, h.http+"/api/v1/machines/e2e-idle").(map[string]any)
		gpus := m["report"].(map[string]any)["gpu_data"].([]any)
		g0, g1 := gpus[0].(map[string]any), gpus[1].(map[string]any)
		list := get(t, h.http+"/api/v1/machines").(map[string]any)
		u := get(t, h.http+"/api/v1/usage").(map[string]any)
		if num(t, u["idle_after_seconds"]) != 4 {
			t.Errorf("usage idle_after_seconds = %v, want 4", u["idle_after_seconds"])
		}
		if g1["idle_since"] != nil {
			t.Errorf("a GPU at 97 %% is idle since %v (as its report claimed)", g1["idle_since"])
		}
		return view{since: g0["idle_since"], held: g0["idle_held"] == true, busyHeld: g1["idle_held"] == true,
			summary: num(t, m["summary"].(map[string]any)["gpus_idle_held"]),
			total:   num(t, list["totals"].(map[string]any)["gpus_idle_held"]), listed: len(u["idle_held"].([]any))}
	}
	post()
	v := look() // one report so far: idle, for no time at all
	if v.since == nil || v.held || v.busyHeld || v.summary != 0 || v.total != 0 || v.listed != 0 {
		t.Fatalf("after one report: %+v; want GPU 0 idle since now and nothing idle-held anywhere", v)
	}
	waitFor(t, "GPU 0 to be idle-held", 60*time.Second, func() bool {
		post()
		return look().held
	})
	v = look()
	if v.busyHeld || v.summary != 1 || v.total != 1 || v.listed != 1 {
		t.Fatalf("once idle-held: %+v; want the summary, totals and usage each to count GPU 0 only", v)
	}
	u := get(t, h.http+"/api/v1/usage").(map[string]any)
	ig := u["idle_held"].([]any)[0].(map[string]any)
	if ig["machine"] != "e2e-idle" || num(t, ig["index"]) != 0 || num(t, ig["idle_seconds"]) < 4 || ig["users"].([]any)[0] != "bob" {
		t.Errorf("usage idle_held = %v, want e2e-idle GPU 0, bob's, idle for at least 4 s", ig)
	}
}
