package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// compareRules is a rule file whose rules answer the same whatever the
// data: Prometheus and the hub must agree on every field but the times.
const compareRules = `groups:
  - name: lab
    interval: 2s
    rules:
      - alert: AlwaysFiring
        expr: vector(1)
        labels:
          severity: info
          team: lab
        annotations:
          summary: "always {{ $value }}"
          description: 'labels: {{ $labels }}'
      - alert: PendingForAnHour
        expr: vector(2) > 1
        for: 1h
        keep_firing_for: 5m
        labels:
          severity: warning
      - alert: NeverFires
        expr: vector(1) == 2
      - record: lab:gpus:count
        expr: count(DCGM_FI_DEV_GPU_UTIL) by (Hostname)
        labels:
          source: gpumon
  - name: limited
    limit: 5
    rules:
      - alert: OnePerMachine
        expr: gpumon_machine_online == 1
        labels:
          severity: info
`

// TestRulesAndAlertsAsPrometheus: Debian's Prometheus loads the same rule
// files as the hub (the hub's default rules and a user file) and scrapes
// the hub; /api/v1/rules and /api/v1/alerts of both have the same shape,
// and the same values but for evaluation times and the states of rules
// whose data the two see at different moments.
func TestRulesAndAlertsAsPrometheus(t *testing.T) {
	bin := promBinary(t)
	dir := t.TempDir()
	userRules := filepath.Join(dir, "lab.rules.yml")
	writeRules(t, userRules, compareRules)
	h := newHub(t, "--rules", userRules, "--rule-interval", "1s")
	startAgent(t, h, "rules-a", "rtx4090x2")
	promAddr := freeAddr(t)
	prom := "http://" + promAddr
	defaults := filepath.Join(h.dataDir, "default-rules.yml")
	cfg := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [%q, %q]
scrape_configs:
  - job_name: gpumon
    static_configs: [{targets: [%q]}]
    metric_relabel_configs: [{action: labeldrop, regex: "job|instance"}]
`, defaults, userRules, strings.TrimPrefix(h.http, "http://"))
	writeRules(t, filepath.Join(dir, "prometheus.yml"), cfg)
	start(t, bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+promAddr)
	waitFor(t, "Prometheus ready", 60*time.Second, func() bool {
		resp, err := http.Get(prom + "/-/ready")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	})
	settled := func(base string) bool {
		var r map[string]any
		getJSON(t, base+"/api/v1/alerts", &r)
		n := 0
		for _, a := range r["data"].(map[string]any)["alerts"].([]any) {
			if name := a.(map[string]any)["labels"].(map[string]any)["alertname"]; name == "OnePerMachine" || name == "AlwaysFiring" {
				n++
			}
		}
		return n == 2
	}
	waitFor(t, "both to fire the user rules", 90*time.Second, func() bool { return settled(h.http) && settled(prom) })

	var ours, theirs map[string]any
	getJSON(t, h.http+"/api/v1/rules", &ours)
	getJSON(t, prom+"/api/v1/rules", &theirs)
	sameShape(t, "rules", ours, theirs)
	og, tg := groups(ours), groups(theirs)
	if len(og) != 3 || len(tg) != len(og) {
		t.Fatalf("groups: hub %d, Prometheus %d, want 3", len(og), len(tg))
	}
	for i := range og {
		sameValues(t, fmt.Sprintf("group %d", i), og[i], tg[i], "rules", "evaluationTime", "lastEvaluation")
		or, tr := og[i]["rules"].([]any), tg[i]["rules"].([]any)
		if len(or) != len(tr) {
			t.Errorf("group %v: hub %d rules, Prometheus %d", og[i]["name"], len(or), len(tr))
			continue
		}
		for j := range or {
			a, b := or[j].(map[string]any), tr[j].(map[string]any)
			skip := []string{"evaluationTime", "lastEvaluation", "alerts", "state"}
			if og[i]["file"] == userRules {
				skip = []string{"evaluationTime", "lastEvaluation", "alerts"}
			}
			sameValues(t, fmt.Sprintf("rule %v", a["name"]), a, b, skip...)
		}
	}

	var oa, ta map[string]any
	getJSON(t, h.http+"/api/v1/alerts", &oa)
	getJSON(t, prom+"/api/v1/alerts", &ta)
	sameShape(t, "alerts", oa, ta)
	pick := func(r map[string]any) map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, a := range r["data"].(map[string]any)["alerts"].([]any) {
			m := a.(map[string]any)
			switch name := m["labels"].(map[string]any)["alertname"].(string); name {
			case "AlwaysFiring", "PendingForAnHour", "OnePerMachine":
				out[name] = m
			}
		}
		return out
	}
	op, tp := pick(oa), pick(ta)
	if len(op) != 3 || len(tp) != 3 {
		t.Fatalf("alerts: hub %v, Prometheus %v", op, tp)
	}
	for name := range op {
		sameValues(t, "alert "+name, op[name], tp[name], "activeAt")
	}
}

// groups returns the rule groups of a /api/v1/rules answer.
func groups(r map[string]any) []map[string]any {
	var out []map[string]any
	for _, g := range r["data"].(map[string]any)["groups"].([]any) {
		out = append(out, g.(map[string]any))
	}
	return out
}

// sameShape fails unless a and b have the same keys with the same JSON
// types at every level (the first element stands for a list); the keys of
// label and annotation sets (labels, groupLabels, commonAnnotations, ...)
// are values and may differ.
func sameShape(t *testing.T, path string, a, b any) {
	t.Helper()
	if reflect.TypeOf(a) != reflect.TypeOf(b) {
		t.Errorf("%s: hub has %T, Prometheus %T", path, a, b)
		return
	}
	switch x := a.(type) {
	case map[string]any:
		y := b.(map[string]any)
		var ka, kb []string
		for k := range x {
			ka = append(ka, k)
		}
		for k := range y {
			kb = append(kb, k)
		}
		slices.Sort(ka)
		slices.Sort(kb)
		if !slices.Equal(ka, kb) && !strings.HasSuffix(path, "abels") && !strings.HasSuffix(path, "nnotations") {
			t.Errorf("%s: hub keys %v, Prometheus keys %v", path, ka, kb)
		}
		for k, v := range x {
			if w, ok := y[k]; ok {
				sameShape(t, path+"."+k, v, w)
			}
		}
	case []any:
		y := b.([]any)
		if len(x) > 0 && len(y) > 0 {
			sameShape(t, path+"[0]", x[0], y[0])
		}
	}
}

// sameValues fails unless a and b hold equal values but for skip.
func sameValues(t *testing.T, what string, a, b map[string]any, skip ...string) {
	t.Helper()
	for k, v := range a {
		if slices.Contains(skip, k) {
			continue
		}
		if !reflect.DeepEqual(v, b[k]) {
			t.Errorf("%s: %s is %v at the hub, %v at Prometheus", what, k, v, b[k])
		}
	}
}
