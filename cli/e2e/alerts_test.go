package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpumon/gpumon/cli/internal/testfleet"
)

// upRule fires at once for every online machine.
const upRule = `groups:
  - name: cli
    rules:
      - alert: MachineUp
        expr: gpumon_machine_online == 1
        labels:
          severity: warning
        annotations:
          summary: "{{ $labels.Hostname }} is up"
`

// TestAlerts: gpumon alerts lists what the hub's rules fire, in the
// documented JSON shape and in a table that fits 80 columns; with the
// default rules off and no --rules, it says that no rule is evaluated.
func TestAlerts(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "rules.yml")
	if err := os.WriteFile(rules, []byte(upRule), 0o644); err != nil {
		t.Fatal(err)
	}
	h := testfleet.StartHub(t, binDir, "--rules", rules, "--rule-interval", "1s")
	f := &fleet{Hub: h, grpc: h.GRPC}
	h.StartAgent(t, "alert-a", "rtx4090x2")
	var out struct {
		Alerts []map[string]any
		Rules  float64
	}
	waitFor(t, "the alert", func() bool {
		r := f.gpumon(t, nil, "alerts", "--json")
		return r.code == 0 && json.Unmarshal([]byte(r.stdout), &out) == nil && len(out.Alerts) == 1
	})
	a := out.Alerts[0]
	wantKeys(t, "alert", a, "name", "state", "severity", "host", "hostname", "gpu", "since", "fired_at", "value", "summary", "labels", "annotations")
	if a["name"] != "MachineUp" || a["state"] != "firing" || a["host"] != "alert-a" || a["gpu"] != nil || a["value"] != 1.0 ||
		a["summary"] != "alert-a is up" || out.Rules != 8 {
		t.Errorf("alert %v, rules %v; want MachineUp of alert-a and 8 rules (7 default)", a, out.Rules)
	}
	r := f.gpumon(t, nil, "alerts")
	if r.code != 0 || !strings.Contains(r.stdout, "MachineUp") || !strings.Contains(r.stdout, "alert-a is up") {
		t.Errorf("gpumon alerts: exit %d\n%s", r.code, r.stdout)
	}
	checkWidth(t, r.stdout)
	if r := f.gpumon(t, nil, "alerts", "--host", "another", "--json"); r.code != 0 || !strings.Contains(r.stdout, `"alerts": []`) {
		t.Errorf("alerts of another machine: exit %d, %s", r.code, r.stdout)
	}

	off := testfleet.StartHub(t, binDir, "--default-rules=false")
	r = run(t, []string{"GPUMON_HUB=" + off.GRPC, "GPUMON_TOKEN=" + apiToken}, "alerts")
	if r.code != 0 || !strings.Contains(r.stdout, "no alerting rules") {
		t.Errorf("without rules: exit %d, %q", r.code, r.stdout)
	}
}
