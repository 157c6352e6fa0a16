package e2e

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/gpumon/gpumon/cli/internal/testfleet"
)

// idleReport: GPU 0 holds 30 GiB for bob at 0 %, GPU 1 works for alice.
const idleReport = `{"hostname": "cli-idle", "gpu_data": [
 {"id": 0, "name": "NVIDIA H100 80GB HBM3", "memory_used": 30000, "memory_total": 81559, "utilization": 0,
  "processes": [{"pid": 4242, "name": "python", "username": "bob", "gpu_memory_usage": 30000}]},
 {"id": 1, "name": "NVIDIA H100 80GB HBM3", "memory_used": 60000, "memory_total": 81559, "utilization": 97,
  "processes": [{"pid": 4343, "name": "python", "username": "alice", "gpu_memory_usage": 60000}]}],
 "system_info": {"cpu_percent": 3}}`

// TestUsageAndLsAgreeOnIdleGPUs: once the hub calls a GPU idle-held,
// gpumon usage lists it and gpumon ls counts it, as the page's card and
// Usage do (the hub e2e tests check those against the same API).
func TestUsageAndLsAgreeOnIdleGPUs(t *testing.T) {
	h := testfleet.StartHub(t, binDir, "--idle-after", "3s")
	f := &fleet{Hub: h, grpc: h.GRPC}
	post := func() {
		req, _ := http.NewRequest(http.MethodPost, h.URL()+"/api/report-gpu-stats", bytes.NewBufferString(idleReport))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+testfleet.AgentToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST: %d", resp.StatusCode)
		}
	}
	var usage struct {
		IdleHeld []struct {
			Host  string
			GPU   float64
			Users []string
		} `json:"idle_held"`
		IdleAfter float64 `json:"idle_after_seconds"`
	}
	post()
	decode(t, f.gpumon(t, nil, "usage", "--json"), &usage)
	if len(usage.IdleHeld) != 0 || usage.IdleAfter != 3 {
		t.Fatalf("after one report: %+v; want nothing idle-held yet and the hub's 3 s", usage)
	}
	waitFor(t, "gpumon usage to list GPU 0", func() bool {
		post()
		decode(t, f.gpumon(t, nil, "usage", "--json"), &usage)
		return len(usage.IdleHeld) > 0
	})
	if g := usage.IdleHeld; len(g) != 1 || g[0].Host != "cli-idle" || g[0].GPU != 0 || strings.Join(g[0].Users, ",") != "bob" {
		t.Errorf("idle_held = %+v, want cli-idle GPU 0 of bob only", g)
	}
	var ls struct {
		Machines []map[string]any
		Totals   map[string]any
	}
	decode(t, f.gpumon(t, nil, "ls", "--json"), &ls)
	if len(ls.Machines) != 1 || ls.Machines[0]["gpus_idle_held"] != 1.0 || ls.Totals["gpus_idle_held"] != 1.0 {
		t.Errorf("ls: %v / %v, want one idle-held GPU on the machine and in the totals", ls.Machines, ls.Totals)
	}
	r := f.gpumon(t, nil, "usage")
	if !strings.Contains(r.stdout, "GPUs held while idle for 3s or longer:") || !strings.Contains(r.stdout, "cli-idle") {
		t.Errorf("gpumon usage:\n%s", r.stdout)
	}
	checkWidth(t, r.stdout)
}
