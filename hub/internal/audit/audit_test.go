package audit

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/gpumon/gpumon/hub/internal/tokenbucket"
)

func TestCallLine(t *testing.T) {
	var buf bytes.Buffer
	l := New(slog.New(slog.NewTextHandler(&buf, nil)), 0, 0)
	ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 4444}})
	ctx = metadata.NewIncomingContext(ctx, metadata.Pairs("x-forwarded-for", "1.2.3.4"))
	l.Call(WithTokenKind(ctx, "admin"), slog.LevelInfo, "kill", Entry{Route: "/gpumon.v1.FleetService/KillProcesses", Result: "success", Attrs: []any{"host", "gpu-1"}})
	for _, want := range []string{"msg=kill", "route=/gpumon.v1.FleetService/KillProcesses", "token=admin", "remote=10.1.2.3", "result=success", "forwarded_for=1.2.3.4", "host=gpu-1"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("line %q lacks %q", buf.String(), want)
		}
	}
	buf.Reset()
	r := httptest.NewRequest("GET", "/metrics", nil)
	r.RemoteAddr = "192.168.0.5:999"
	l.Request(r, slog.LevelWarn, "request refused", Entry{Token: "invalid", Result: "401"})
	for _, want := range []string{`msg="request refused"`, `route="GET /metrics"`, "token=invalid", "remote=192.168.0.5", "result=401"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("line %q lacks %q", buf.String(), want)
		}
	}
}

// TestRateLimited: a flood writes the burst, then rate lines a second; the
// next line written says how many were left out.
func TestRateLimited(t *testing.T) {
	var buf bytes.Buffer
	l := New(slog.New(slog.NewTextHandler(&buf, nil)), 10, 100)
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	l.lines = tokenbucket.New(10, 100, now)
	for range 10000 {
		l.Call(context.Background(), slog.LevelWarn, "request refused", Entry{Result: "Unauthenticated"})
	}
	if n := strings.Count(buf.String(), "\n"); n != 100 {
		t.Fatalf("%d lines from a flood of 10,000 with a burst of 100", n)
	}
	now = now.Add(time.Second)
	buf.Reset()
	l.Call(context.Background(), slog.LevelWarn, "request refused", Entry{Result: "Unauthenticated"})
	if !strings.Contains(buf.String(), "suppressed_before=9900") {
		t.Errorf("line after the flood %q: want suppressed_before=9900", buf.String())
	}
}
