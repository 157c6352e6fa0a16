package app

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"time"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

func alertsCommand() *command {
	return &command{
		name:    "alerts",
		summary: "alerts firing now (the hub's default rules and --rules), most severe first",
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.BoolVar(&o.pending, "pending", false, "also alerts whose condition holds but not yet for the rule's \"for\"")
			fs.StringVar(&o.host, "host", "", "only alerts of this `machine`")
		},
		run: runAlerts,
	}
}

// AlertJSON is one alert in the --json output of gpumon alerts.
type AlertJSON struct {
	Name        string            `json:"name"`
	State       string            `json:"state"`
	Severity    string            `json:"severity"`
	Host        string            `json:"host"`
	Hostname    string            `json:"hostname"`
	GPU         *int32            `json:"gpu"`
	Since       time.Time         `json:"since"`
	FiredAt     *time.Time        `json:"fired_at"`
	Value       *float64          `json:"value"`
	Summary     string            `json:"summary"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// AlertsJSON is the --json output of gpumon alerts.
type AlertsJSON struct {
	Alerts []AlertJSON `json:"alerts"`
	Rules  uint32      `json:"rules"`
}

func runAlerts(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 {
		return usageError("alerts takes no arguments")
	}
	c, cctx, end, err := e.readCall(ctx)
	if err != nil {
		return err
	}
	defer end()
	resp, err := c.ListAlerts(cctx, &gpumonv1.ListAlertsRequest{IncludePending: e.opts.pending, Machine: e.opts.host})
	if err != nil {
		return e.rpcError("list alerts", err)
	}
	out := alertsJSON(resp)
	if e.common.json {
		return writeJSON(e.Out, out)
	}
	writeAlerts(e, out, time.Now())
	return nil
}

func alertsJSON(resp *gpumonv1.ListAlertsResponse) AlertsJSON {
	out := AlertsJSON{Alerts: []AlertJSON{}, Rules: resp.GetRules()}
	for _, a := range resp.GetAlerts() {
		j := AlertJSON{Name: a.GetName(), State: a.GetState(), Severity: a.GetSeverity(), Host: a.GetMachine(), Hostname: a.GetHostname(),
			GPU: a.Gpu, Since: a.GetActiveAt().AsTime().UTC(), Value: a.Value, Summary: a.GetAnnotations()["summary"],
			Labels: a.GetLabels(), Annotations: a.GetAnnotations()}
		if a.FiredAt != nil {
			t := a.GetFiredAt().AsTime().UTC()
			j.FiredAt = &t
		}
		if j.Labels == nil {
			j.Labels = map[string]string{}
		}
		if j.Annotations == nil {
			j.Annotations = map[string]string{}
		}
		out.Alerts = append(out.Alerts, j)
	}
	return out
}

func writeAlerts(e *env, out AlertsJSON, now time.Time) {
	if out.Rules == 0 {
		fmt.Fprintln(e.Out, "the hub evaluates no alerting rules (it runs with --default-rules=false and no --rules)")
		return
	}
	if len(out.Alerts) == 0 {
		fmt.Fprintf(e.Out, "no alert is firing (%d rules)\n", out.Rules)
		return
	}
	tb := &table{
		head:  []string{"SEVERITY", "ALERT", "HOST", "GPU", "SINCE", "SUMMARY"},
		max:   []int{0, 22, 20, 0, 0, 0},
		right: []bool{false, false, false, true, true, false},
	}
	for _, a := range out.Alerts {
		sev := a.Severity
		if a.State != "firing" {
			sev += " (pending)"
		}
		gpu := ""
		if a.GPU != nil {
			gpu = strconv.Itoa(int(*a.GPU))
		}
		summary := a.Summary
		if summary == "" {
			summary = a.Name
		}
		tb.add(sev, a.Name, a.Host, gpu, ago(a.Since, now), summary)
	}
	tb.write(e.Out, width(e.Out))
}
