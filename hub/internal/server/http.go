package server

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/gpumon/gpumon/gateway"
	"github.com/gpumon/gpumon/hub/internal/gpustats"
	"github.com/gpumon/gpumon/hub/internal/legacyws"
	"github.com/gpumon/gpumon/hub/internal/machinelist"
	"github.com/gpumon/gpumon/hub/internal/metrics"
	"github.com/gpumon/gpumon/hub/internal/promapi"
	"github.com/gpumon/gpumon/webui"
)

func (h *Hub) httpHandler(ctx context.Context) (http.Handler, error) {
	local := &localFleet{srv: h.fleetSvc, unary: h.unaryInterceptor(), stream: h.streamInterceptor()}
	stats := &gpustats.Handler{Fleet: h.fleet, Service: local}
	go stats.Run(ctx)
	machines := &machinelist.Cache{Fleet: h.fleet, Service: local}
	api, err := gateway.NewLocal(ctx, local, stats, gateway.Options{
		Shortcuts: map[string]func(http.Handler) http.Handler{machinelist.Pattern: machines.Shortcut},
		CORS:      gateway.CORS{Origins: h.cfg.CORSOrigins, AnyOriginReads: true},
		Location:  time.Local,
		Logger:    h.cfg.Log,
		Version:   h.cfg.Version,
		// Not ready while history cannot be written: snapshots are then
		// served as current but not acknowledged.
		// In a cluster, not ready while NATS is away: the hub serves only
		// the machines it holds and acknowledges nothing.
		Ready: func(context.Context) error { return errors.Join(h.history.Err(), h.clusterErr()) },
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	metricsRegistry := metrics.New(metrics.Sources{Fleet: h.fleet, Stats: h.stats, History: h.history, Remote: h.remote, Extra: h.alerts.registry})
	prom := &promapi.API{
		Engine: h.history.Engine(), Queryable: h.history.Queryable(), Version: h.cfg.Version, Rules: h.alerts.engine,
		Parser: h.history.Parser(), Timeout: h.history.QueryLimits().Timeout,
		Authorize: h.authorizeRead,
		Metadata:  metricsRegistry.Families, Started: h.started, Retention: h.retention(), Flags: h.promFlags(),
	}
	if h.cfg.HistoryURL != "" {
		prom.Remote, _ = url.Parse(h.cfg.HistoryURL)
	}
	promHandler := gateway.Gzip(prom.Handler())
	for _, route := range promapi.Routes() {
		mux.Handle(route, promHandler)
	}
	mux.Handle("/metrics", gateway.OnlyGet(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code, msg := h.authorizeRead(r); code != 0 {
			gateway.WriteError(w, code, msg)
			return
		}
		metricsRegistry.ServeHTTP(w, r)
	})))
	mux.Handle("/ws", &legacyws.Handler{
		Fleet: h.fleet, Log: h.cfg.Log, Stopping: h.stopping,
		Authorize: h.authorizeCollector,
	})
	mux.Handle("/healthz", api)
	mux.Handle("/readyz", api)
	files, _ := webui.FS()
	mux.Handle("/", uiHandler(files))
	return gateway.NoSniff(mux), nil
}

// uiHandler serves the web UI's files. Paths that are not files get
// index.html, so deep links work. Hashed assets are cached for long and, to
// clients that accept gzip, sent as the .gz the build wrote beside them (the
// first load is a third of the size).
func uiHandler(files fs.FS) http.Handler {
	fileServer := http.FileServerFS(files)
	csp := contentSecurityPolicy(files)
	return gateway.OnlyGet(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", csp)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if st, err := fs.Stat(files, name); name == "" || err != nil || st.IsDir() {
			h.Set("Cache-Control", "no-cache")
			http.ServeFileFS(w, r, files, "index.html")
			return
		}
		if strings.HasPrefix(name, "assets/") {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
			if serveGzipped(w, r, files, name) {
				return
			}
		}
		fileServer.ServeHTTP(w, r)
	}))
}

// serveGzipped sends name.gz as name with Content-Encoding gzip, when there is
// one and the client accepts it.
func serveGzipped(w http.ResponseWriter, r *http.Request, files fs.FS, name string) bool {
	if strings.HasSuffix(name, ".gz") {
		return false
	}
	w.Header().Add("Vary", "Accept-Encoding")
	if !gateway.AcceptsGzip(r) {
		return false
	}
	f, err := files.Open(name + ".gz")
	if err != nil {
		return false
	}
	defer f.Close()
	content, ok := f.(io.ReadSeeker)
	if !ok {
		return false
	}
	w.Header().Set("Content-Encoding", "gzip")
	// ServeContent takes the type from name's extension, not the .gz one.
	http.ServeContent(w, r, name, time.Time{}, content)
	return true
}
