// Package gateway is gpumon's REST/JSON face: grpc-gateway routes over the
// hub's FleetService with the documented JSON, error body, CORS, gzip and
// body limits, plus /healthz, /readyz and /api/v1/openapi.json.
//
// The hub serves it in-process (NewLocal: routes call the service directly);
// gpumon-gateway serves it as a separate process dialling a hub (New).
package gateway

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/gpumon/gpumon/common/wirejson"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// Options configures the REST handler.
type Options struct {
	CORS CORS
	// MaxBodyBytes bounds request bodies; DefaultMaxBodyBytes when 0.
	MaxBodyBytes int64
	// Location reads timestamps posted without a zone; time.Local when nil.
	Location *time.Location
	// Ready answers /readyz; nil means always ready.
	Ready func(context.Context) error
	// DefaultToken is sent to the hub as a bearer token on requests that
	// carry no Authorization header of their own.
	DefaultToken string
	// Version is the serving binary's version, written into the OpenAPI
	// document's info.version.
	Version string
	Logger  *slog.Logger
	// Shortcuts serve some routes of the API faster than the generic route
	// (a cache of the answer, say): each pattern ("GET /api/v1/machines")
	// maps to a wrapper given the route's own handler, to pass on the
	// requests it does not answer itself. A shortcut answers exactly as the
	// route does.
	Shortcuts map[string]func(route http.Handler) http.Handler
}

// New returns the REST handler for a FleetService reached through conn: the
// gRPC hop of the separate gpumon-gateway process.
func New(ctx context.Context, conn grpc.ClientConnInterface, opts Options) (http.Handler, error) {
	client := gpumonv1.NewFleetServiceClient(conn)
	return build(opts, func(api *runtime.ServeMux, marshaler *Marshaler) (http.Handler, error) {
		if err := gpumonv1.RegisterFleetServiceHandlerClient(ctx, api, client); err != nil {
			return nil, fmt.Errorf("register fleet routes: %w", err)
		}
		return &gpuStats{api: api, client: client, marshaler: marshaler}, nil
	})
}

// NewLocal returns the REST handler for a FleetService in this process: each
// route calls srv's method directly, with no gRPC hop. srv must apply the
// server's own checks (auth) as its gRPC interceptors would. The watch route
// streams srv.Watch; gpuStats serves GET /api/gpu-stats.
func NewLocal(ctx context.Context, srv gpumonv1.FleetServiceServer, gpuStats http.Handler, opts Options) (http.Handler, error) {
	return build(opts, func(api *runtime.ServeMux, marshaler *Marshaler) (http.Handler, error) {
		if err := gpumonv1.RegisterFleetServiceHandlerServer(ctx, api, srv); err != nil {
			return nil, fmt.Errorf("register fleet routes: %w", err)
		}
		// The in-process registration does not stream; this one (registered
		// later, so it wins) does.
		if err := api.HandlePath(http.MethodGet, "/api/v1/watch", localWatch(api, srv)); err != nil {
			return nil, fmt.Errorf("register watch route: %w", err)
		}
		return gpuStats, nil
	})
}

// build assembles the REST handler around the FleetService routes that
// register adds to api; it returns the GET /api/gpu-stats handler.
func build(opts Options, register func(api *runtime.ServeMux, marshaler *Marshaler) (http.Handler, error)) (http.Handler, error) {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	marshaler := &Marshaler{Lenient: wirejson.Lenient{Location: opts.Location}}
	routes := loadRoutes()
	muxOpts := []runtime.ServeMuxOption{
		runtime.WithMarshalerOption(runtime.MIMEWildcard, marshaler),
		runtime.WithErrorHandler(handleError),
		runtime.WithRoutingErrorHandler(routes.routingError),
		runtime.WithStreamErrorHandler(streamError),
		runtime.WithDisablePathLengthFallback(),
		// The hub's gRPC metadata is no business of HTTP clients: no
		// Grpc-Metadata-* headers or trailers.
		runtime.WithOutgoingHeaderMatcher(dropMetadata),
		runtime.WithOutgoingTrailerMatcher(dropMetadata),
	}
	if opts.DefaultToken != "" {
		muxOpts = append(muxOpts, runtime.WithMetadata(defaultToken(opts.DefaultToken)))
	}
	doc, err := openAPIDocument(opts.Version)
	if err != nil {
		return nil, err
	}
	api := runtime.NewServeMux(muxOpts...)
	stats, err := register(api, marshaler)
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	routed := routes.jsonWrites(limitBody(opts.MaxBodyBytes, streamDeadlines(api)))
	mux.Handle("/api/", routed)
	for pattern, wrap := range opts.Shortcuts {
		mux.Handle(pattern, wrap(routed))
	}
	mux.Handle("GET /api/gpu-stats", stats)
	mux.Handle("/api/v1/openapi.json", OnlyGet(http.HandlerFunc(serveOpenAPI(doc))))
	mux.Handle("/healthz", OnlyGet(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, `{"status":"ok"}`)
	})))
	mux.Handle("/readyz", OnlyGet(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if opts.Ready != nil {
			if err := opts.Ready(r.Context()); err != nil {
				WriteError(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
				return
			}
		}
		writeJSON(w, http.StatusOK, `{"status":"ready"}`)
	})))
	return opts.CORS.wrap(NoSniff(Gzip(mux))), nil
}

func dropMetadata(string) (string, bool) { return "", false }

// NoSniff tells browsers to take every answer as the type it says it is.
func NoSniff(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// defaultToken adds a bearer token when the HTTP request has none.
func defaultToken(token string) func(context.Context, *http.Request) metadata.MD {
	return func(_ context.Context, r *http.Request) metadata.MD {
		if r.Header.Get("Authorization") != "" {
			return nil
		}
		return metadata.Pairs("authorization", "Bearer "+token)
	}
}

func writeJSON(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body + "\n"))
}

// NewHTTPServer returns an HTTP server with timeouts that bound slow
// clients (slow headers, slow bodies) but let watch streams run.
func NewHTTPServer(h http.Handler, tlsConfig *tls.Config) *http.Server {
	return &http.Server{
		Handler:           h,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}
