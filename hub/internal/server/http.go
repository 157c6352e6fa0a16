package server

import (
	"context"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"google.golang.org/grpc"

	"github.com/gpumon/gpumon/gateway"
	"github.com/gpumon/gpumon/hub/internal/metrics"
	"github.com/gpumon/gpumon/hub/internal/promapi"
	"github.com/gpumon/gpumon/webui"
)

func (h *Hub) httpHandler(ctx context.Context, conn *grpc.ClientConn) (http.Handler, error) {
	api, err := gateway.New(ctx, conn, gateway.Options{
		CORS:     gateway.CORS{Origins: h.cfg.CORSOrigins, AnyOriginReads: true},
		Location: time.Local,
		Logger:   h.cfg.Log,
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	prom := &promapi.API{
		Engine: h.history.Engine(), Queryable: h.history.Queryable(), Version: h.cfg.Version,
		Authorize: func(r *http.Request) (int, string) { return h.policy.CheckReadHeader(r.Header.Get("Authorization")) },
	}
	if h.cfg.HistoryURL != "" {
		prom.Remote, _ = url.Parse(h.cfg.HistoryURL)
	}
	promHandler := gateway.Gzip(prom.Handler())
	for _, route := range promapi.Routes {
		mux.Handle(route, promHandler)
	}
	metricsHandler := metrics.Handler(metrics.Sources{Fleet: h.fleet, Stats: h.stats, History: h.history, Remote: h.remote})
	mux.Handle("/metrics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code, msg := h.policy.CheckReadHeader(r.Header.Get("Authorization")); code != 0 {
			gateway.WriteError(w, code, msg)
			return
		}
		metricsHandler.ServeHTTP(w, r)
	}))
	mux.Handle("/healthz", api)
	mux.Handle("/readyz", api)
	mux.Handle("/", uiHandler())
	return mux, nil
}

// uiHandler serves the embedded web UI. Paths that are not files get
// index.html, so deep links work; hashed assets are cached for long.
func uiHandler() http.Handler {
	files, _ := webui.FS()
	fileServer := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			gateway.WriteError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed on "+r.URL.Path)
			return
		}
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if st, err := fs.Stat(files, name); name == "" || err != nil || st.IsDir() {
			h.Set("Cache-Control", "no-cache")
			http.ServeFileFS(w, r, files, "index.html")
			return
		}
		if strings.HasPrefix(name, "assets/") {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		fileServer.ServeHTTP(w, r)
	})
}
