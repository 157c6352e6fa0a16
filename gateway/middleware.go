package gateway

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// DefaultMaxBodyBytes bounds a REST request body. A report with 1,000
// processes is well under 1 MiB.
const DefaultMaxBodyBytes = 8 << 20

type tooLargeKey struct{}

// tooLarge reports whether the request body went over the limit.
func tooLarge(r *http.Request) bool {
	flag, _ := r.Context().Value(tooLargeKey{}).(*bool)
	return flag != nil && *flag
}

// limitBody refuses bodies over max bytes with 413 and the documented body.
func limitBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			WriteError(w, http.StatusRequestEntityTooLarge, "request body too large")
			return
		}
		flag := new(bool)
		r = r.WithContext(context.WithValue(r.Context(), tooLargeKey{}, flag))
		r.Body = &limitedBody{ReadCloser: http.MaxBytesReader(w, r.Body, max), over: flag, size: r.ContentLength}
		next.ServeHTTP(w, r)
	})
}

type limitedBody struct {
	io.ReadCloser
	over *bool
	size int64 // the request's Content-Length; -1: unknown
}

// sizeHint is the body's length as the request announced it (readBody).
func (b *limitedBody) sizeHint() int64 { return b.size }

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if _, ok := err.(*http.MaxBytesError); ok {
		*b.over = true
	}
	return n, err
}

// CORS says which web origins may call the API from a browser.
type CORS struct {
	// Origins allowed for every method; "*" allows any. Empty: none beyond
	// the read-only default below.
	Origins []string
	// AnyOriginReads lets any origin GET (the original system's page is
	// served from another origin). On by default in the hub.
	AnyOriginReads bool
}

func (c CORS) allowed(origin, method string) bool {
	if slices.Contains(c.Origins, "*") || slices.Contains(c.Origins, origin) {
		return true
	}
	return c.AnyOriginReads && (method == http.MethodGet || method == http.MethodHead)
}

func (c CORS) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Add("Vary", "Origin")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			c.preflight(w, r, origin)
			return
		}
		if c.allowed(origin, r.Method) {
			w.Header().Set("Access-Control-Allow-Origin", origin)
		}
		next.ServeHTTP(w, r)
	})
}

func (c CORS) preflight(w http.ResponseWriter, r *http.Request, origin string) {
	method := r.Header.Get("Access-Control-Request-Method")
	if !c.allowed(origin, method) {
		WriteError(w, http.StatusForbidden, "origin "+origin+" may not "+method+" this API")
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, DELETE, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

var gzipPool = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return w
}}

// Gzip compresses responses for clients that accept it, except streams.
func Gzip(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !AcceptsGzip(r) || strings.HasSuffix(r.URL.Path, "/watch") {
			next.ServeHTTP(w, r)
			return
		}
		gz := gzipPool.Get().(*gzip.Writer)
		gw := &gzipWriter{ResponseWriter: w, gz: gz}
		defer func() {
			if gw.started {
				_ = gz.Close()
			}
			gzipPool.Put(gz)
		}()
		w.Header().Add("Vary", "Accept-Encoding")
		next.ServeHTTP(gw, r)
	})
}

// AcceptsGzip reports whether the request's Accept-Encoding allows gzip.
func AcceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(name) == "gzip" && strings.TrimSpace(q) != "q=0" {
			return true
		}
	}
	return false
}

type gzipWriter struct {
	http.ResponseWriter
	gz      *gzip.Writer
	started bool
	plain   bool
}

func (g *gzipWriter) WriteHeader(code int) {
	if !g.started && !g.plain {
		h := g.Header()
		if code == http.StatusNoContent || code == http.StatusNotModified || h.Get("Content-Encoding") != "" {
			g.plain = true
		} else {
			h.Del("Content-Length")
			h.Set("Content-Encoding", "gzip")
			g.gz.Reset(g.ResponseWriter)
			g.started = true
		}
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *gzipWriter) Write(p []byte) (int, error) {
	if !g.started && !g.plain {
		g.WriteHeader(http.StatusOK)
	}
	if g.plain {
		return g.ResponseWriter.Write(p)
	}
	return g.gz.Write(p)
}

// Flush lets streaming handlers push data through.
func (g *gzipWriter) Flush() {
	if g.started {
		_ = g.gz.Flush()
	}
	if f, ok := g.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap exposes the underlying writer to http.ResponseController.
func (g *gzipWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }
