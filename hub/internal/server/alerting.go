package server

import (
	"cmp"
	"context"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/rules"

	"github.com/gpumon/gpumon/hub/internal/alerting"
	"github.com/gpumon/gpumon/hub/internal/gpustate"
	"github.com/gpumon/gpumon/hub/internal/webhook"
)

// alerts is the hub's alerting: the rule engine and where alerts go.
type alerts struct {
	engine   *alerting.Engine
	managers *alerting.Alertmanagers // nil without --alertmanager-url
	webhooks *webhook.Sender         // nil without --webhook-url
	registry *prometheus.Registry
}

// openAlerting checks the rule files (a broken one refuses the start) and
// prepares the engine and the senders.
func (h *Hub) openAlerting() error {
	a := &alerts{registry: prometheus.NewRegistry()}
	var notify []rules.NotifyFunc
	if len(h.cfg.AlertmanagerURLs) > 0 {
		m, err := alerting.NewAlertmanagers(h.cfg.AlertmanagerURLs, a.registry, h.cfg.Log)
		if err != nil {
			return err
		}
		a.managers = m
		notify = append(notify, m.Notify())
	}
	if len(h.cfg.WebhookURLs) > 0 {
		w, err := webhook.New(webhook.Options{URLs: h.cfg.WebhookURLs, Format: h.cfg.WebhookFormat, StateDir: h.cfg.DataDir,
			Registerer: a.registry, Log: h.cfg.Log}, a.firing)
		if err != nil {
			return err
		}
		a.webhooks = w
		notify = append(notify, func(context.Context, string, ...*rules.Alert) { w.Kick() })
	}
	engine, err := alerting.New(alerting.Config{
		Patterns: h.cfg.RuleFiles, DefaultRules: h.cfg.DefaultRules, DataDir: h.cfg.DataDir, Interval: h.cfg.RuleInterval,
		Defaults: alerting.Defaults{IdleAfter: cmp.Or(h.cfg.IdleAfter, gpustate.DefaultIdleAfter), HotCelsius: cmp.Or(h.cfg.HotTemperature, alerting.DefaultHotCelsius)},
		Engine:   h.history.Engine(), Store: h.history, Registerer: a.registry, Log: h.cfg.Log,
		Notify: func(ctx context.Context, expr string, as ...*rules.Alert) {
			for _, n := range notify {
				n(ctx, expr, as...)
			}
		},
	})
	if err != nil {
		return err
	}
	a.engine = engine
	h.alerts = a
	return nil
}

// firing is the webhooks' source: the alerts firing now.
func (a *alerts) firing() ([]webhook.Alert, bool) {
	fire, ready := a.engine.Firing()
	out := make([]webhook.Alert, 0, len(fire))
	for _, f := range fire {
		out = append(out, webhook.Alert{Labels: f.Labels.Map(), Annotations: f.Annotations.Map(), StartsAt: f.FiredAt})
	}
	return out, ready
}

// run evaluates the rules and sends alerts until ctx is done; senders stop
// after the engine, so its last notifications go out.
func (a *alerts) run(ctx context.Context) {
	var wg sync.WaitGroup
	if a.managers != nil {
		wg.Add(1)
		go func() { defer wg.Done(); a.managers.Run() }()
	}
	sendCtx, stopSending := context.WithCancel(context.Background())
	if a.webhooks != nil {
		wg.Add(1)
		go func() { defer wg.Done(); a.webhooks.Run(sendCtx) }()
	}
	a.engine.Run(ctx)
	if a.managers != nil {
		a.managers.Stop()
	}
	stopSending()
	wg.Wait()
}

// ReloadRules reads the rule files again (SIGHUP). On an error the previous
// rules keep running.
func (h *Hub) ReloadRules() error { return h.alerts.engine.Reload() }
