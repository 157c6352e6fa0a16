package gateway

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"strconv"
	"sync"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/gpumon/gpumon/common/apimeta"
	"github.com/gpumon/gpumon/common/wirejson"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// gpuStats serves GET /api/gpu-stats, the whole fleet's reports. The body
// (tens of megabytes for a large fleet) is rendered once per fleet version
// and kept, plain and gzipped; every request is still authorised by the hub.
type gpuStats struct {
	api       *runtime.ServeMux
	client    gpumonv1.FleetServiceClient
	marshaler runtime.Marshaler

	mu       sync.Mutex
	body     *renderedStats
	inflight *flight
}

// flight is a fetch and rendering in progress. Requests that arrive during
// it are authorised by the hub and then share its result, so a fleet that
// changes between every two reads is still rendered once at a time, not
// once per concurrent reader (each rendering of a large fleet holds tens of
// megabytes).
type flight struct {
	done chan struct{}
	body *renderedStats
}

type renderedStats struct {
	version string
	plain   []byte
	gzOnce  sync.Once
	gz      []byte
}

func (r *renderedStats) gzipped() []byte {
	r.gzOnce.Do(func() {
		var buf bytes.Buffer
		buf.Grow(len(r.plain) / 8)
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		_, _ = zw.Write(r.plain)
		_ = zw.Close()
		r.gz = buf.Bytes()
	})
	return r.gz
}

func (g *gpuStats) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, err := runtime.AnnotateContext(r.Context(), g.api, r, "/gpumon.v1.FleetService/GetGpuStats", runtime.WithHTTPPathPattern("/api/gpu-stats"))
	if err != nil {
		runtime.HTTPError(r.Context(), g.api, g.marshaler, w, r, err)
		return
	}
	g.mu.Lock()
	if f := g.inflight; f != nil {
		g.mu.Unlock()
		if body, ok := g.share(ctx, w, r, f); ok {
			g.write(w, r, body)
		}
		return
	}
	f := &flight{done: make(chan struct{})}
	g.inflight = f
	have := g.body
	g.mu.Unlock()
	body, err := g.fetch(ctx, have)
	g.mu.Lock()
	g.inflight = nil
	if body != nil && body.version != "" {
		g.body = body
	}
	f.body = body
	g.mu.Unlock()
	close(f.done)
	if err != nil {
		runtime.HTTPError(ctx, g.api, g.marshaler, w, r, err)
		return
	}
	g.write(w, r, body)
}

// share authorises the request with the hub, then waits for f's result.
// ok is false when an answer was already written (an error).
func (g *gpuStats) share(ctx context.Context, w http.ResponseWriter, r *http.Request, f *flight) (*renderedStats, bool) {
	_, err := g.client.GetGpuStats(metadata.AppendToOutgoingContext(ctx, apimeta.IfVersion, apimeta.AnyVersion), &gpumonv1.GetGpuStatsRequest{})
	if err != nil {
		runtime.HTTPError(ctx, g.api, g.marshaler, w, r, err)
		return nil, false
	}
	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, false
	}
	if f.body == nil { // the flight failed; fetch on our own
		body, err := g.fetch(ctx, nil)
		if err != nil {
			runtime.HTTPError(ctx, g.api, g.marshaler, w, r, err)
			return nil, false
		}
		return body, true
	}
	return f.body, true
}

// fetch asks the hub for the fleet, sending the version of have so that an
// unchanged fleet costs an empty answer, and renders a new version.
func (g *gpuStats) fetch(ctx context.Context, have *renderedStats) (*renderedStats, error) {
	if have != nil {
		ctx = metadata.AppendToOutgoingContext(ctx, apimeta.IfVersion, have.version)
	}
	var header metadata.MD
	resp, err := g.client.GetGpuStats(ctx, &gpumonv1.GetGpuStatsRequest{}, grpc.Header(&header))
	if err != nil {
		return nil, err
	}
	version := first(header.Get(apimeta.FleetVersion))
	if have != nil && version != "" && version == have.version {
		return have, nil
	}
	hint := 1024
	if have != nil {
		hint = len(have.plain) + len(have.plain)/8
	}
	return &renderedStats{version: version, plain: wirejson.AppendDocumented(make([]byte, 0, hint), resp)}, nil
}

// write sends body, gzipped when the client takes it, with an ETag.
func (g *gpuStats) write(w http.ResponseWriter, r *http.Request, body *renderedStats) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Add("Vary", "Accept-Encoding")
	if body.version != "" {
		etag := strconv.Quote("v" + body.version)
		h.Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	data := body.plain
	if AcceptsGzip(r) {
		data = body.gzipped()
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
