// Package exporter serves the agent's own machine as a Prometheus scrape
// target (gpumon-agent --metrics-addr), the way node_exporter and
// dcgm-exporter are deployed: the series the hub's /metrics has for this
// machine, under the same names and labels (package metricset), plus how
// the agent's collectors fared.
package exporter

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/protobuf/proto"

	"github.com/gpumon/gpumon/common/exposition"
	"github.com/gpumon/gpumon/common/metricset"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// minStale is the shortest age after which a sample is no longer current;
// otherwise three sampling intervals, as the hub marks a machine offline.
const minStale = 10 * time.Second

// Exporter holds the latest sample and serves it.
type Exporter struct {
	log *slog.Logger
	reg *prometheus.Registry
	now func() time.Time

	mu     sync.Mutex
	latest *gpumonv1.Report
	key    string
	at     time.Time
}

// New returns an exporter with no sample yet.
func New(log *slog.Logger) *Exporter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Exporter{log: log, reg: prometheus.NewRegistry(), now: time.Now}
	e.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	e.reg.MustRegister(exposition.NewCollector(e.source))
	return e
}

// Observe keeps a copy of a full sample; machineKey is the key the hub
// lists the machine under ("": not known yet, the hostname is used).
func (e *Exporter) Observe(r *gpumonv1.Report, machineKey string) {
	c := proto.CloneOf(r)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.latest, e.key, e.at = c, machineKey, e.now()
}

// source emits the latest sample's series while it is current: a sampler
// that stopped leaves no figures behind that look live.
func (e *Exporter) source(emit metricset.Emit) {
	e.mu.Lock()
	r, key, at := e.latest, e.key, e.at
	e.mu.Unlock()
	if r == nil {
		return
	}
	interval := time.Duration(r.GetIntervalSeconds() * float64(time.Second))
	if e.now().Sub(at) > max(3*interval, minStale) {
		return
	}
	if key == "" {
		key = r.GetHostname()
	}
	emit = metricset.WithBase(emit, metricset.MachineLabels(key, r.GetHostname()))
	metricset.Report(emit, r)
	metricset.Collectors(emit, r)
}

// Handler serves /metrics, and a page that points to it at /.
func (e *Exporter) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>gpumon-agent</title><h1>gpumon-agent</h1><p><a href="/metrics">Metrics</a></p>`)
	})
	return mux
}

// Listen opens the address to serve on, so a taken port is an error before
// the agent starts.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr: %w", err)
	}
	return ln, nil
}

// Serve serves the handler on ln until ctx is done.
func (e *Exporter) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           e.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
	}
	e.log.Info("serving metrics", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve metrics: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	<-errc
	return nil
}
