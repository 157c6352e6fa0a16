// Command gpumon-hub holds the fleet's state and serves it over gRPC, REST
// and the web UI.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gpumon/gpumon/common/flagenv"
	"github.com/gpumon/gpumon/hub/internal/alerting"
	"github.com/gpumon/gpumon/hub/internal/history"
	"github.com/gpumon/gpumon/hub/internal/server"
	"github.com/gpumon/gpumon/hub/internal/service"
	"github.com/gpumon/gpumon/hub/internal/webhook"
)

// Set at build time (see Makefile).
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

const summary = `gpumon-hub: the hub of a gpumon fleet.

Agents connect to the gRPC port; people and scripts use the HTTP port (web UI,
REST API, the original system's /api/gpu-stats routes).

Usage: gpumon-hub [flags]`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, showVersion, logLevel, err := parseFlags(args, stderr)
	if err == flag.ErrHelp {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "gpumon-hub: %v\n", err)
		return 2
	}
	if showVersion {
		fmt.Fprintf(stdout, "gpumon-hub %s (commit %s, built %s)\n", version, commit, date)
		return 0
	}
	cfg.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel}))
	cfg.Version = version
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hub, err := server.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "gpumon-hub: %v\n", err)
		return 1
	}
	banner(stdout, hub, cfg)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			_ = hub.ReloadRules() // logged by the hub
		}
	}()
	if err := hub.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "gpumon-hub: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "gpumon-hub: stopped")
	return 0
}

func parseFlags(args []string, stderr io.Writer) (server.Config, bool, slog.Level, error) {
	var cfg server.Config
	fs := flag.NewFlagSet("gpumon-hub", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.HTTPAddr, "http-addr", ":7864", "`address` for HTTP: web UI and REST API")
	fs.StringVar(&cfg.GRPCAddr, "grpc-addr", ":7865", "`address` for gRPC: agents and gRPC clients")
	fs.StringVar(&cfg.DataDir, "data-dir", "./gpumon-data", "`directory` for the registry, the history (tsdb/) and the generated agent token")
	fs.StringVar(&cfg.AgentToken, "agent-token", "", "`token` agents (and report POSTs) must present; generated and kept in the data dir when empty")
	fs.StringVar(&cfg.APIToken, "api-token", "", "`token` needed to read the API and the page; reading is open when empty")
	fs.StringVar(&cfg.AdminToken, "admin-token", "", "`token` needed to kill processes and forget machines; both are disabled when empty")
	fs.BoolVar(&cfg.LegacyOpen, "legacy-open", false, "accept the original collector's POST /api/report-gpu-stats and websocket /ws without a token (it sends none)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM certificate `file`: serve both ports over TLS")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "PEM private key `file` for --tls-cert")
	fs.StringVar(&cfg.TLSClientCA, "tls-client-ca", "", "PEM CA `file`: require client certificates signed by it (mTLS)")
	fs.DurationVar(&cfg.Interval, "interval", 0, "sampling `interval` pushed to every agent (0: each agent's own)")
	cfg.Retention = 15 * 24 * time.Hour
	fs.Var((*days)(&cfg.Retention), "retention", "how long history is kept (`duration`, e.g. 15d, 720h)")
	fs.StringVar(&cfg.RemoteWriteURL, "remote-write-url", "", "also send every sample to this Prometheus remote-write `URL` (Mimir, Thanos Receive, VictoriaMetrics, Prometheus)")
	fs.StringVar(&cfg.HistoryURL, "history-url", "", "answer history and PromQL queries from this Prometheus-compatible API base `URL` instead of the embedded store")
	cfg.IdleAfter = 30 * time.Minute
	fs.DurationVar(&cfg.IdleAfter, "idle-after", 30*time.Minute, "a GPU whose processes hold ≥ 1 GiB at ≤ 5% utilisation this `duration` is idle-held (card tag, usage, gpumon usage)")
	fs.IntVar(&cfg.Capacity.MaxMachines, "max-machines", service.DefaultMaxMachines, "most `machines` the hub keeps (online and offline); a new one beyond is refused (507) until one is forgotten")
	fs.IntVar(&cfg.Capacity.MaxProcesses, "max-report-processes", service.DefaultMaxReportProcesses, "most `processes` one report may list; a longer report posted is refused (507), an agent sends those using a GPU and the busiest others")
	fs.IntVar(&cfg.Capacity.MaxBytes, "max-report-bytes", service.DefaultMaxReportBytes, "largest report in `bytes` (protobuf, as stored); a larger one posted is refused (507), an agent's has its process list cut to fit")
	fs.IntVar(&cfg.MaxWatchers, "max-watchers", service.DefaultMaxWatchers, "most watch `streams` open at once (REST and gRPC); more are refused (429)")
	fs.IntVar(&cfg.MaxWatchersPerClient, "max-watchers-per-client", service.DefaultMaxWatchersPerClient, "most watch `streams` one client address may hold open; more are refused (429)")
	fs.DurationVar(&cfg.WatchMaxLag, "watch-max-lag", service.DefaultWatchMaxLag, "a watch stream whose oldest unsent event is this `duration` old is ended with an error: its client reads too slowly")
	fs.IntVar(&cfg.MaxConnections, "max-connections", 20000, "open `connections` per port; more are closed at once (load shedding)")
	fs.IntVar(&cfg.MaxConnectionsPerAddress, "max-connections-per-address", server.DefaultMaxConnectionsPerAddress, "open gRPC `connections` from one remote address; more are closed at once (0: no limit)")
	fs.Float64Var(&cfg.SnapshotRate, "max-snapshot-rate", 20, "snapshots per `second` one machine may send, over all its streams; a faster stream is closed (ResourceExhausted)")
	fs.Float64Var(&cfg.SnapshotBurst, "max-snapshot-burst", 1200, "snapshots one machine may send in a `burst` (replaying its buffer after an outage), over all its streams")
	fs.DurationVar(&cfg.Query.Timeout, "query.timeout", history.DefaultQueryTimeout, "longest `duration` of a PromQL query, waiting for a slot included")
	fs.IntVar(&cfg.Query.MaxConcurrency, "query.max-concurrency", history.DefaultQueryConcurrency, "PromQL `queries` evaluated at once; more wait for a slot")
	fs.IntVar(&cfg.Query.MaxSamples, "query.max-samples", history.DefaultQuerySamples, "`samples` one PromQL query may load into memory; more fail the query")
	fs.IntVar(&cfg.Query.MaxLength, "query.max-length", history.DefaultQueryLength, "longest PromQL query text in `bytes`; longer ones are refused before parsing")
	cors := fs.String("cors-origins", "", "comma-separated web `origins` allowed to call every route (\"*\": any); any origin may GET")
	fs.Var((*flagenv.Strings)(&cfg.RuleFiles), "rules", "Prometheus alerting and recording rule `files` (globs; repeat or separate with commas); reloaded on SIGHUP and when they change")
	fs.BoolVar(&cfg.DefaultRules, "default-rules", true, "evaluate the built-in alerting rules (written to DATA_DIR/default-rules.yml at start; --default-rules=false turns them off)")
	fs.DurationVar(&cfg.RuleInterval, "rule-interval", alerting.DefaultInterval, "evaluation `interval` of the rule groups that set none of their own")
	fs.Float64Var(&cfg.HotTemperature, "hot-temperature", alerting.DefaultHotCelsius, "a GPU at or above this `temperature`, °C, for 2 minutes fires the default rule GpuTooHot")
	fs.Var((*flagenv.Strings)(&cfg.AlertmanagerURLs), "alertmanager-url", "send alerts to this Alertmanager (`URL`, e.g. http://alertmanager:9093; repeat or separate with commas)")
	fs.Var((*flagenv.Strings)(&cfg.WebhookURLs), "webhook-url", "post each alert when it fires and when it is resolved to this `URL` (repeat or separate with commas)")
	format := fs.String("webhook-format", string(webhook.Alertmanager), "body of --webhook-url posts: alertmanager (Alertmanager's webhook JSON), slack, feishu or dingtalk (their incoming webhooks' text `format`)")
	natsURLs := fs.String("cluster-nats", "", "join the hubs sharing these NATS JetStream servers (`URLs`, e.g. nats://a:4222,nats://b:4222): every hub serves the whole fleet")
	fs.StringVar(&cfg.ClusterName, "cluster-name", "", "`name` of the cluster, its NATS bucket gpumon_NAME (default gpumon); with --cluster-nats")
	fs.StringVar(&cfg.ClusterHub, "cluster-hub", "", "this hub's `name` in the cluster, unique per hub (default: the machine's hostname); with --cluster-nats")
	fs.DurationVar(&cfg.ClusterKeepalive, "cluster-keepalive", 0, "a hub silent this `long` is taken for dead and its machines are marked reconnecting (default 10s); with --cluster-nats")
	fs.StringVar(&cfg.PprofAddr, "pprof-addr", "", "serve Go's /debug/pprof profiles on this `address` (e.g. 127.0.0.1:6060; off when empty)")
	level := fs.String("log-level", "info", "log `level`: debug, info, warn, error")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := flagenv.Command(fs, args, summary); err != nil {
		return cfg, false, 0, err
	}
	cfg.CORSOrigins = flagenv.List(*cors)
	cfg.ClusterNATS = flagenv.List(*natsURLs)
	cfg.WebhookFormat = webhook.Format(*format)
	lvl, err := flagenv.LogLevel(*level)
	return cfg, *showVersion, lvl, err
}

func banner(w io.Writer, hub *server.Hub, cfg server.Config) {
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	fmt.Fprintf(w, "gpumon-hub %s\n", version)
	fmt.Fprintf(w, "  web UI and REST:  %s://%s/\n", scheme, displayAddr(hub.HTTPAddr()))
	fmt.Fprintf(w, "  gRPC for agents:  %s\n", displayAddr(hub.GRPCAddr()))
	if hub.TokenCreated {
		fmt.Fprintf(w, "  a new agent token was generated and saved in %s\n", cfg.DataDir)
	}
	tokenFrom := "the value of --agent-token"
	if cfg.AgentToken == "" {
		tokenFrom = filepath.Join(cfg.DataDir, "agent-token")
	}
	fmt.Fprintf(w, "  start an agent on each GPU machine with the agent token (%s)\n", tokenFrom)
	fmt.Fprintf(w, "  in a file only root can read, e.g. /etc/gpumon/agent-token (chmod 600):\n")
	fmt.Fprintf(w, "    gpumon-agent --hub %s --token-file /etc/gpumon/agent-token\n", agentHubAddr(hub.GRPCAddr()))
	if cfg.LegacyOpen {
		fmt.Fprintf(w, "  POST /api/report-gpu-stats and /ws are open to anyone (--legacy-open)\n")
	}
	fmt.Fprintln(w, "  stop with Ctrl-C")
}

// displayAddr turns ":7864" or "[::]:7864" into "localhost:7864".
func displayAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// agentHubAddr is the address an agent on another machine would use.
func agentHubAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	return net.JoinHostPort(host, port)
}

// days is a duration flag that also accepts whole days ("15d").
type days time.Duration

func (d *days) String() string {
	if *d%days(24*time.Hour) == 0 && *d != 0 {
		return fmt.Sprintf("%dd", time.Duration(*d)/(24*time.Hour))
	}
	return time.Duration(*d).String()
}

func (d *days) Set(s string) error {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var v int
		if _, err := fmt.Sscanf(n, "%d", &v); err != nil || v < 0 || fmt.Sprint(v) != n {
			return fmt.Errorf("want a duration such as 15d or 360h")
		}
		*d = days(time.Duration(v) * 24 * time.Hour)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration such as 15d or 360h")
	}
	*d = days(v)
	return nil
}
