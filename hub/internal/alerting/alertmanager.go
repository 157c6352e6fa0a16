package alerting

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery/targetgroup"
	"github.com/prometheus/prometheus/notifier"
	"github.com/prometheus/prometheus/rules"
)

// CheckAlertmanagerURLs validates --alertmanager-url values: http or https
// URLs with a host, optionally a path prefix (Alertmanager behind a proxy)
// and user:password for basic authentication.
func CheckAlertmanagerURLs(urls []string) error {
	var errs []error
	for _, raw := range urls {
		if _, err := alertmanagerConfig(raw); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func alertmanagerConfig(raw string) (*config.AlertmanagerConfig, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("--alertmanager-url %q: want an http:// or https:// URL such as http://alertmanager:9093", redactURL(raw))
	}
	cfg := config.DefaultAlertmanagerConfig
	cfg.Scheme = u.Scheme
	cfg.PathPrefix = strings.TrimSuffix(u.Path, "/")
	cfg.HTTPClientConfig = commoncfg.DefaultHTTPClientConfig
	if u.User != nil {
		pw, _ := u.User.Password()
		cfg.HTTPClientConfig.BasicAuth = &commoncfg.BasicAuth{Username: u.User.Username(), Password: commoncfg.Secret(pw)}
	}
	cfg.ServiceDiscoveryConfigs = nil
	return &cfg, nil
}

// redactURL hides a password in a URL for messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Alertmanagers sends alerts to Alertmanager with Prometheus' notifier: the
// same protocol (API v2), queue and batching as Prometheus. Firing alerts
// are sent again every minute and resolved ones for 15 minutes, so an
// Alertmanager that was away catches up; what could not be sent is counted
// in prometheus_notifications_errors_total and _dropped_total.
type Alertmanagers struct {
	mgr  *notifier.Manager
	sets map[string][]*targetgroup.Group
	done chan struct{}
}

// NewAlertmanagers prepares sending to urls (checked by
// CheckAlertmanagerURLs). Nothing is sent until Run.
func NewAlertmanagers(urls []string, reg prometheus.Registerer, log *slog.Logger) (*Alertmanagers, error) {
	mgr := notifier.NewManager(&notifier.Options{QueueCapacity: 10000, Registerer: reg}, model.UTF8Validation, log.With("component", "notifier"))
	conf := &config.Config{}
	sets := map[string][]*targetgroup.Group{}
	for i, raw := range urls {
		cfg, err := alertmanagerConfig(raw)
		if err != nil {
			return nil, err
		}
		conf.AlertingConfig.AlertmanagerConfigs = append(conf.AlertingConfig.AlertmanagerConfigs, cfg)
		u, _ := url.Parse(raw)
		sets["config-"+strconv.Itoa(i)] = []*targetgroup.Group{{
			Source:  strconv.Itoa(i),
			Targets: []model.LabelSet{{model.AddressLabel: model.LabelValue(u.Host)}},
		}}
	}
	if err := mgr.ApplyConfig(conf); err != nil {
		return nil, fmt.Errorf("configure alertmanagers: %w", err)
	}
	return &Alertmanagers{mgr: mgr, sets: sets, done: make(chan struct{})}, nil
}

// Notify is the rules' NotifyFunc.
func (a *Alertmanagers) Notify() rules.NotifyFunc { return rules.SendAlerts(a.mgr, "") }

// Run sends until Stop.
func (a *Alertmanagers) Run() {
	tsets := make(chan map[string][]*targetgroup.Group, 1)
	tsets <- a.sets
	a.mgr.Run(tsets)
	close(a.done)
}

// Stop ends Run.
func (a *Alertmanagers) Stop() {
	a.mgr.Stop()
	<-a.done
}
