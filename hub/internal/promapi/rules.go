package promapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/rules"
)

// RuleSource is the hub's rule engine.
type RuleSource interface {
	RuleGroups() []*rules.Group
	AlertingRules() []*rules.AlertingRule
}

// ruleRoutes are served from the hub's own rules, also when the other routes
// go to a remote history.
var ruleRoutes = []string{"/api/v1/rules", "/api/v1/alerts"}

// The types below answer /api/v1/rules and /api/v1/alerts with Prometheus'
// field names and order (web/api/v1 of the Prometheus module).

type alertDiscovery struct {
	Alerts []*alert `json:"alerts"`
}

type alert struct {
	Labels          labels.Labels `json:"labels"`
	Annotations     labels.Labels `json:"annotations"`
	State           string        `json:"state"`
	ActiveAt        *time.Time    `json:"activeAt,omitempty"`
	KeepFiringSince *time.Time    `json:"keepFiringSince,omitempty"`
	Value           string        `json:"value"`
}

type ruleDiscovery struct {
	RuleGroups []*ruleGroup `json:"groups"`
}

type ruleGroup struct {
	Name           string    `json:"name"`
	File           string    `json:"file"`
	Rules          []any     `json:"rules"`
	Interval       float64   `json:"interval"`
	Limit          int       `json:"limit"`
	EvaluationTime float64   `json:"evaluationTime"`
	LastEvaluation time.Time `json:"lastEvaluation"`
}

type alertingRule struct {
	State          string           `json:"state"`
	Name           string           `json:"name"`
	Query          string           `json:"query"`
	Duration       float64          `json:"duration"`
	KeepFiringFor  float64          `json:"keepFiringFor"`
	Labels         labels.Labels    `json:"labels"`
	Annotations    labels.Labels    `json:"annotations"`
	Alerts         []*alert         `json:"alerts"`
	Health         rules.RuleHealth `json:"health"`
	LastError      string           `json:"lastError,omitempty"`
	EvaluationTime float64          `json:"evaluationTime"`
	LastEvaluation time.Time        `json:"lastEvaluation"`
	Type           string           `json:"type"`
}

type recordingRule struct {
	Name           string           `json:"name"`
	Query          string           `json:"query"`
	Labels         labels.Labels    `json:"labels"`
	Health         rules.RuleHealth `json:"health"`
	LastError      string           `json:"lastError,omitempty"`
	EvaluationTime float64          `json:"evaluationTime"`
	LastEvaluation time.Time        `json:"lastEvaluation"`
	Type           string           `json:"type"`
}

func apiAlerts(as []*rules.Alert) []*alert {
	out := make([]*alert, len(as))
	for i, a := range as {
		out[i] = &alert{Labels: a.Labels, Annotations: a.Annotations, State: a.State.String(), ActiveAt: &a.ActiveAt,
			Value: strconv.FormatFloat(a.Value, 'e', -1, 64)}
		if !a.KeepFiringSince.IsZero() {
			out[i].KeepFiringSince = &a.KeepFiringSince
		}
	}
	return out
}

// alerts answers GET /api/v1/alerts: every active alert (pending and
// firing).
func (a *API) alerts(w http.ResponseWriter, _ *http.Request) {
	out := []*alert{}
	if a.Rules != nil {
		for _, r := range a.Rules.AlertingRules() {
			out = append(out, apiAlerts(r.ActiveAlerts())...)
		}
	}
	ok(w, &alertDiscovery{Alerts: out})
}

// rules answers GET /api/v1/rules with Prometheus' filters: type (alert,
// record), rule_name[], rule_group[], file[], match[] and exclude_alerts.
func (a *API) rules(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		fail(w, http.StatusBadRequest, "bad_data", fmt.Sprintf("error parsing form values: %v", err))
		return
	}
	typ := strings.ToLower(r.URL.Query().Get("type"))
	if typ != "" && typ != "alert" && typ != "record" {
		fail(w, http.StatusBadRequest, "bad_data", fmt.Sprintf("invalid parameter \"type\": not supported value %q", typ))
		return
	}
	exclude := false
	if v := r.URL.Query().Get("exclude_alerts"); v != "" {
		b, err := strconv.ParseBool(strings.ToLower(v))
		if err != nil {
			fail(w, http.StatusBadRequest, "bad_data", fmt.Sprintf("invalid parameter \"exclude_alerts\": error converting exclude_alerts: %v", err))
			return
		}
		exclude = b
	}
	var sets [][]*labels.Matcher
	for _, m := range r.Form["match[]"] {
		ms, err := a.parser().ParseMetricSelector(m)
		if err != nil {
			fail(w, http.StatusBadRequest, "bad_data", err.Error())
			return
		}
		sets = append(sets, ms)
	}
	f := ruleFilter{names: set(r.Form["rule_name[]"]), groups: set(r.Form["rule_group[]"]), files: set(r.Form["file[]"]),
		alerts: typ != "record", records: typ != "alert", exclude: exclude, matchers: sets}
	res := &ruleDiscovery{RuleGroups: []*ruleGroup{}}
	if a.Rules != nil {
		for _, g := range a.Rules.RuleGroups() {
			if rg := f.group(g); rg != nil {
				res.RuleGroups = append(res.RuleGroups, rg)
			}
		}
	}
	ok(w, res)
}

type ruleFilter struct {
	names, groups, files     map[string]bool
	alerts, records, exclude bool
	matchers                 [][]*labels.Matcher
}

func set(vs []string) map[string]bool {
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}

// group renders g, or nil when the filter leaves none of its rules.
func (f ruleFilter) group(g *rules.Group) *ruleGroup {
	if (len(f.groups) > 0 && !f.groups[g.Name()]) || (len(f.files) > 0 && !f.files[g.File()]) {
		return nil
	}
	rg := &ruleGroup{Name: g.Name(), File: g.File(), Rules: []any{}, Interval: g.Interval().Seconds(), Limit: g.Limit(),
		EvaluationTime: g.GetEvaluationTime().Seconds(), LastEvaluation: g.GetLastEvaluation()}
	for _, r := range g.Rules(f.matchers...) {
		if len(f.names) > 0 && !f.names[r.Name()] {
			continue
		}
		lastErr := ""
		if err := r.LastError(); err != nil {
			lastErr = err.Error()
		}
		switch rule := r.(type) {
		case *rules.AlertingRule:
			if !f.alerts {
				continue
			}
			var active []*alert
			if !f.exclude {
				active = apiAlerts(rule.ActiveAlerts())
			}
			rg.Rules = append(rg.Rules, alertingRule{State: rule.State().String(), Name: rule.Name(), Query: rule.Query().String(),
				Duration: rule.HoldDuration().Seconds(), KeepFiringFor: rule.KeepFiringFor().Seconds(), Labels: rule.Labels(),
				Annotations: rule.Annotations(), Alerts: active, Health: rule.Health(), LastError: lastErr,
				EvaluationTime: rule.GetEvaluationDuration().Seconds(), LastEvaluation: rule.GetEvaluationTimestamp(), Type: "alerting"})
		case *rules.RecordingRule:
			if !f.records {
				continue
			}
			rg.Rules = append(rg.Rules, recordingRule{Name: rule.Name(), Query: rule.Query().String(), Labels: rule.Labels(),
				Health: rule.Health(), LastError: lastErr, EvaluationTime: rule.GetEvaluationDuration().Seconds(),
				LastEvaluation: rule.GetEvaluationTimestamp(), Type: "recording"})
		}
	}
	if len(rg.Rules) == 0 {
		return nil
	}
	return rg
}
