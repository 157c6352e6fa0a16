package alerting

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/rules"
	"google.golang.org/protobuf/types/known/timestamppb"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// ListAlerts answers FleetService.ListAlerts: the alerts firing now (and
// pending ones when asked), firing first, then by severity, newest first.
func (e *Engine) ListAlerts(req *gpumonv1.ListAlertsRequest) *gpumonv1.ListAlertsResponse {
	resp := &gpumonv1.ListAlertsResponse{Alerts: []*gpumonv1.Alert{}}
	for _, r := range e.AlertingRules() {
		resp.Rules++
		for _, a := range r.ActiveAlerts() {
			if a.State != rules.StateFiring && !(req.GetIncludePending() && a.State == rules.StatePending) {
				continue
			}
			pa := protoAlert(a)
			if req.GetMachine() != "" && pa.GetMachine() != req.GetMachine() {
				continue
			}
			resp.Alerts = append(resp.Alerts, pa)
		}
	}
	SortAlerts(resp.Alerts)
	return resp
}

// protoAlert converts one alert of the rules package.
func protoAlert(a *rules.Alert) *gpumonv1.Alert {
	out := &gpumonv1.Alert{
		Name: a.Labels.Get(labels.AlertName), State: a.State.String(),
		Labels: a.Labels.Map(), Annotations: a.Annotations.Map(),
		ActiveAt: stamp(a.ActiveAt), Machine: a.Labels.Get("machine"), Hostname: a.Labels.Get("Hostname"),
		Severity: a.Labels.Get("severity"),
	}
	if a.State == rules.StateFiring {
		out.FiredAt = stamp(a.FiredAt)
	}
	if !math.IsNaN(a.Value) && !math.IsInf(a.Value, 0) {
		out.Value = &a.Value
	}
	if g, err := strconv.ParseInt(a.Labels.Get("gpu"), 10, 32); err == nil {
		out.Gpu = new(int32(g))
	}
	if out.Annotations == nil {
		out.Annotations = map[string]string{}
	}
	return out
}

func stamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// severityRank orders severities: critical first, then warning, then any
// other.
func severityRank(s string) int {
	switch s {
	case "critical":
		return 0
	case "warning":
		return 1
	}
	return 2
}

// SortAlerts orders alerts as ListAlerts answers them.
func SortAlerts(as []*gpumonv1.Alert) {
	slices.SortStableFunc(as, func(a, b *gpumonv1.Alert) int {
		return cmp.Or(
			cmp.Compare(stateRank(a.GetState()), stateRank(b.GetState())),
			cmp.Compare(severityRank(a.GetSeverity()), severityRank(b.GetSeverity())),
			b.GetActiveAt().AsTime().Compare(a.GetActiveAt().AsTime()),
			cmp.Compare(a.GetName(), b.GetName()),
			cmp.Compare(a.GetMachine(), b.GetMachine()),
			cmp.Compare(a.GetGpu(), b.GetGpu()))
	})
}

func stateRank(s string) int {
	if s == "firing" {
		return 0
	}
	return 1
}

// Firing returns the alerts that fire now. ready is false until the rules
// are loaded, every alerting rule's state is restored after a start, and
// every group has been evaluated once since: a restored alert that fired
// before the restart is pending until that evaluation.
func (e *Engine) Firing() (fire []*rules.Alert, ready bool) {
	if !e.loaded.Load() || !e.settled() {
		return nil, false
	}
	for _, r := range e.AlertingRules() {
		for _, a := range r.ActiveAlerts() {
			if a.State == rules.StateFiring {
				fire = append(fire, a)
			}
		}
	}
	return fire, true
}

// settled reports whether the rules' state after a start is known.
func (e *Engine) settled() bool {
	e.restoreMu.Lock()
	defer e.restoreMu.Unlock()
	if e.isSettled {
		return true
	}
	for _, r := range e.AlertingRules() {
		if !r.Restored() {
			return false
		}
	}
	if e.restoredAt.IsZero() {
		e.restoredAt = time.Now()
		return false
	}
	for _, g := range e.RuleGroups() {
		if len(g.AlertingRules()) > 0 && g.GetLastEvaluation().Before(e.restoredAt) {
			return false
		}
	}
	e.isSettled = true
	return true
}
