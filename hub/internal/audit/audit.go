// Package audit writes the hub's audit trail: kills, forgets, refused
// reports and refused credentials, one log line each with the route, the
// kind of token presented, the caller's address and the result.
//
// Lines are rate-limited (a token bucket), so that a flood of refused
// requests cannot fill the disk; lines over the rate are counted, and the
// next line written says how many were left out before it.
package audit

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"

	"github.com/gpumon/gpumon/hub/internal/caller"
	"github.com/gpumon/gpumon/hub/internal/tokenbucket"
)

// Default rate: lines per second, and a burst.
const (
	DefaultRate  = 10
	DefaultBurst = 100
)

// Log is the audit trail.
type Log struct {
	log        *slog.Logger
	lines      *tokenbucket.Bucket
	now        func() time.Time
	suppressed atomic.Uint64
}

// New returns an audit trail writing to log at most rate lines a second
// after a burst (defaults when <= 0).
func New(log *slog.Logger, rate, burst float64) *Log {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if rate <= 0 {
		rate = DefaultRate
	}
	if burst <= 0 {
		burst = DefaultBurst
	}
	return &Log{log: log, lines: tokenbucket.New(rate, burst, time.Now()), now: time.Now}
}

// Entry is one audited event.
type Entry struct {
	// Route is the gRPC method or HTTP path; from the call when empty.
	Route string
	// Token is the kind of token presented: none, invalid, agent, api, admin.
	Token string
	// Result says what the hub did: "ok", a gRPC code, an HTTP status.
	Result string
	// Attrs add what the event is about (machine, pids, reason).
	Attrs []any
}

// Call records an event of a gRPC call (direct, or through the hub's REST
// gateway). msg names the event ("kill", "forget", "report refused", …).
func (l *Log) Call(ctx context.Context, level slog.Level, msg string, e Entry) {
	if l == nil {
		return
	}
	if e.Route == "" {
		e.Route, _ = grpc.Method(ctx)
	}
	if e.Token == "" {
		e.Token = TokenKind(ctx)
	}
	attrs := []any{"route", e.Route, "token", e.Token, "remote", caller.Address(ctx), "result", e.Result}
	if fwd := caller.ForwardedFor(ctx); fwd != "" {
		attrs = append(attrs, "forwarded_for", fwd)
	}
	l.write(ctx, level, msg, append(attrs, e.Attrs...))
}

// Request records an event of a plain HTTP request (/metrics, PromQL API).
func (l *Log) Request(r *http.Request, level slog.Level, msg string, e Entry) {
	if l == nil {
		return
	}
	if e.Route == "" {
		e.Route = r.Method + " " + r.URL.Path
	}
	remote, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		remote = r.RemoteAddr
	}
	attrs := []any{"route", e.Route, "token", e.Token, "remote", remote, "result", e.Result}
	if fwd := r.Header.Get("X-Forwarded-For"); fwd != "" {
		attrs = append(attrs, "forwarded_for", fwd)
	}
	l.write(r.Context(), level, msg, append(attrs, e.Attrs...))
}

func (l *Log) write(ctx context.Context, level slog.Level, msg string, attrs []any) {
	if !l.log.Enabled(ctx, level) {
		return
	}
	if !l.lines.Take(l.now()) {
		l.suppressed.Add(1)
		return
	}
	if n := l.suppressed.Swap(0); n > 0 {
		attrs = append(attrs, "suppressed_before", n)
	}
	l.log.Log(ctx, level, msg, attrs...)
}

type tokenKey struct{}

// WithTokenKind records in ctx which kind of token the call presented.
func WithTokenKind(ctx context.Context, kind string) context.Context {
	return context.WithValue(ctx, tokenKey{}, kind)
}

// TokenKind is the kind recorded by WithTokenKind ("none" when unknown).
func TokenKind(ctx context.Context) string {
	if k, ok := ctx.Value(tokenKey{}).(string); ok {
		return k
	}
	return "none"
}
