// Package server wires the hub together: gRPC and HTTP listeners, services,
// the REST gateway, the web UI, persistence and the background loops.
package server

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/gpumon/gpumon/hub/internal/alerting"
	"github.com/gpumon/gpumon/hub/internal/cluster"
	"github.com/gpumon/gpumon/hub/internal/history"
	"github.com/gpumon/gpumon/hub/internal/service"
	"github.com/gpumon/gpumon/hub/internal/validate"
	"github.com/gpumon/gpumon/hub/internal/webhook"
)

// Config is everything the hub is started with.
type Config struct {
	HTTPAddr    string
	GRPCAddr    string
	DataDir     string
	AgentToken  string
	APIToken    string
	AdminToken  string
	LegacyOpen  bool
	TLSCert     string
	TLSKey      string
	TLSClientCA string
	// CORSOrigins may call every route from a browser ("*" for any).
	CORSOrigins []string
	// Interval, when set, overrides every agent's sampling interval.
	Interval time.Duration
	// SaveEvery is how often the registry is written when it changed.
	SaveEvery time.Duration
	// Retention of the embedded history.
	Retention time.Duration
	// RemoteWriteURL receives every sample (Prometheus remote write).
	RemoteWriteURL string
	// HistoryURL: answer history queries from this Prometheus-compatible API.
	HistoryURL string
	// IdleAfter: a GPU held while idle this long is reported as idle-held.
	IdleAfter time.Duration
	// PprofAddr serves /debug/pprof when set.
	PprofAddr string
	// RuleFiles are --rules files and globs; DefaultRules loads the
	// built-in rules; RuleInterval is the evaluation interval of groups
	// that set none; HotTemperature is GpuTooHot's threshold, °C (0:
	// alerting.DefaultHotCelsius).
	RuleFiles      []string
	DefaultRules   bool
	RuleInterval   time.Duration
	HotTemperature float64
	// AlertmanagerURLs receive alerts (Prometheus' notifier); WebhookURLs
	// receive each alert firing and resolved, in WebhookFormat.
	AlertmanagerURLs []string
	WebhookURLs      []string
	WebhookFormat    webhook.Format
	// Query bounds PromQL work (--query.*).
	Query history.QueryLimits
	// Capacity bounds machines and report sizes (--max-machines,
	// --max-report-processes, --max-report-bytes).
	Capacity service.Capacity
	// MaxWatchers and MaxWatchersPerClient cap watch streams; one that
	// falls WatchMaxLag behind is disconnected.
	MaxWatchers, MaxWatchersPerClient int
	WatchMaxLag                       time.Duration
	// MaxConnections per port, MaxConnectionsPerAddress from one remote
	// address on the gRPC port; SnapshotRate/Burst per machine.
	MaxConnections              int
	MaxConnectionsPerAddress    int
	SnapshotRate, SnapshotBurst float64
	// ClusterNATS, when set, joins the hubs sharing these NATS servers
	// (nats:// URLs) as ClusterHub of cluster ClusterName; ClusterKeepalive
	// is how long a silent hub is waited for before its machines are marked
	// reconnecting.
	ClusterNATS      []string
	ClusterName      string
	ClusterHub       string
	ClusterKeepalive time.Duration
	Version          string
	Log              *slog.Logger
}

// Validate checks the configuration before any network I/O.
func (c *Config) Validate() error {
	var errs []error
	for name, addr := range map[string]string{"--http-addr": c.HTTPAddr, "--grpc-addr": c.GRPCAddr} {
		if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("%s %q: want host:port or :port", name, addr))
		}
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("--data-dir must not be empty"))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together"))
	}
	if c.TLSClientCA != "" && c.TLSCert == "" {
		errs = append(errs, errors.New("--tls-client-ca needs --tls-cert and --tls-key"))
	}
	for _, f := range []struct{ flag, path string }{{"--tls-cert", c.TLSCert}, {"--tls-key", c.TLSKey}, {"--tls-client-ca", c.TLSClientCA}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.flag, err))
		}
	}
	for _, t := range []struct{ flag, tok string }{{"--agent-token", c.AgentToken}, {"--api-token", c.APIToken}, {"--admin-token", c.AdminToken}} {
		if t.tok != "" && (len(t.tok) < 8 || strings.ContainsAny(t.tok, " \t\r\n")) {
			errs = append(errs, fmt.Errorf("%s: a token needs at least 8 characters and no spaces", t.flag))
		}
	}
	if c.AdminToken != "" && (c.AdminToken == c.AgentToken || c.AdminToken == c.APIToken) {
		errs = append(errs, errors.New("--admin-token must differ from the agent and API tokens"))
	}
	if c.Retention < 0 || (c.Retention > 0 && c.Retention < time.Hour) {
		errs = append(errs, fmt.Errorf("--retention %s: want at least 1h", c.Retention))
	}
	for _, u := range []struct{ flag, val string }{{"--remote-write-url", c.RemoteWriteURL}, {"--history-url", c.HistoryURL}} {
		if u.val == "" {
			continue
		}
		if p, err := url.Parse(u.val); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, fmt.Errorf("%s %q: want an http:// or https:// URL", u.flag, u.val))
		}
	}
	if c.MaxConnections < 0 || c.MaxConnectionsPerAddress < 0 || c.SnapshotRate < 0 || c.SnapshotBurst < 0 {
		errs = append(errs, errors.New("--max-connections, --max-connections-per-address, --max-snapshot-rate and --max-snapshot-burst must not be negative"))
	}
	if q := c.Query; q.Timeout < 0 || q.MaxConcurrency < 0 || q.MaxSamples < 0 || q.MaxLength < 0 {
		errs = append(errs, errors.New("--query.timeout, --query.max-concurrency, --query.max-samples and --query.max-length must not be negative"))
	}
	errs = append(errs, validateCapacity(c.Capacity)...)
	if c.MaxWatchers < 0 || c.MaxWatchersPerClient < 0 {
		errs = append(errs, errors.New("--max-watchers and --max-watchers-per-client must not be negative"))
	}
	if c.WatchMaxLag != 0 && (c.WatchMaxLag < time.Second || c.WatchMaxLag > time.Hour) {
		errs = append(errs, fmt.Errorf("--watch-max-lag %s: want between 1s and 1h", c.WatchMaxLag))
	}
	if c.IdleAfter < 0 {
		errs = append(errs, fmt.Errorf("--idle-after %s: must not be negative", c.IdleAfter))
	}
	if c.Interval != 0 && (c.Interval < 500*time.Millisecond || c.Interval > time.Hour) {
		errs = append(errs, fmt.Errorf("--interval %s: want between 500ms and 1h", c.Interval))
	}
	errs = append(errs, c.validateAlerting()...)
	errs = append(errs, c.validateCluster()...)
	return errors.Join(errs...)
}

// validateCluster checks the cluster flags.
func (c *Config) validateCluster() []error {
	var errs []error
	for _, u := range c.ClusterNATS {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "nats" && p.Scheme != "tls") || p.Host == "" {
			shown := "(unparsable URL)"
			if err == nil {
				shown = p.Redacted() // never print a password
			}
			errs = append(errs, fmt.Errorf("--cluster-nats %q: want nats://host:port (or tls://host:port), several separated by commas", shown))
		}
	}
	if len(c.ClusterNATS) == 0 {
		for flag, set := range map[string]bool{"--cluster-name": c.ClusterName != "", "--cluster-hub": c.ClusterHub != "", "--cluster-keepalive": c.ClusterKeepalive != 0} {
			if set {
				errs = append(errs, fmt.Errorf("%s needs --cluster-nats", flag))
			}
		}
		return errs
	}
	if c.ClusterName != "" {
		if err := cluster.ValidName("--cluster-name", c.ClusterName); err != nil {
			errs = append(errs, err)
		}
	}
	if c.ClusterHub != "" {
		if err := cluster.ValidName("--cluster-hub", c.ClusterHub); err != nil {
			errs = append(errs, err)
		}
	}
	if k := c.ClusterKeepalive; k != 0 && (k < time.Second || k > 10*time.Minute) {
		errs = append(errs, fmt.Errorf("--cluster-keepalive %s: want between 1s and 10m", k))
	}
	return errs
}

// validateAlerting checks the alerting flags.
func (c *Config) validateAlerting() []error {
	var errs []error
	if err := alerting.CheckPatterns(c.RuleFiles); err != nil {
		errs = append(errs, err)
	}
	if c.RuleInterval != 0 && (c.RuleInterval < time.Second || c.RuleInterval > time.Hour) {
		errs = append(errs, fmt.Errorf("--rule-interval %s: want between 1s and 1h", c.RuleInterval))
	}
	if t := c.HotTemperature; math.IsNaN(t) || (t != 0 && (t < 30 || t > 150)) {
		errs = append(errs, fmt.Errorf("--hot-temperature %v: want degrees Celsius between 30 and 150", c.HotTemperature))
	}
	if err := alerting.CheckAlertmanagerURLs(c.AlertmanagerURLs); err != nil {
		errs = append(errs, err)
	}
	if err := webhook.CheckURLs(c.WebhookURLs); err != nil {
		errs = append(errs, err)
	}
	if c.WebhookFormat != "" {
		if _, err := webhook.ParseFormat(string(c.WebhookFormat)); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// maxServedBytes is the most a gRPC message may hold (its length is an
// int32 in gRPC-Go): GET /api/gpu-stats at full capacity must fit in it.
const maxServedBytes = math.MaxInt32

func validateCapacity(c service.Capacity) []error {
	var errs []error
	if c.MaxMachines < 0 || c.MaxProcesses < 0 || c.MaxBytes < 0 {
		errs = append(errs, errors.New("--max-machines, --max-report-processes and --max-report-bytes must not be negative"))
	}
	if c.MaxProcesses > validate.MaxProcesses {
		errs = append(errs, fmt.Errorf("--max-report-processes %d: at most %d", c.MaxProcesses, validate.MaxProcesses))
	}
	if c.MaxBytes > MaxRecvMsgSize {
		errs = append(errs, fmt.Errorf("--max-report-bytes %d: at most %d (a gRPC message)", c.MaxBytes, MaxRecvMsgSize))
	}
	if n := c.ServedBytes(); n > maxServedBytes {
		errs = append(errs, fmt.Errorf("--max-machines %d × --max-report-bytes %d: GET /api/gpu-stats at that size (%d MiB) would not fit in one answer (2 GiB); lower either",
			c.WithDefaults().MaxMachines, c.WithDefaults().MaxBytes, n>>20))
	}
	return errs
}
