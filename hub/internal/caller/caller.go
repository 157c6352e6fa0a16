// Package caller says who is calling the hub: the remote address of a gRPC
// call, seen through the hub's own REST gateway when the call came that way.
package caller

import (
	"context"
	"net"
	"strings"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

// InProcess is the network name of the peer of a call from the hub's own
// REST routes, which call its services in process.
const InProcess = "bufconn"

// Address is the caller's IP address. For a call from the hub's own REST
// gateway it is the HTTP client's address (the last X-Forwarded-For entry,
// which the gateway appends itself); for any other call it is the peer's,
// since a gRPC client may claim whatever X-Forwarded-For it likes.
func Address(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return "unknown"
	}
	if p.Addr.Network() == InProcess {
		if fwd := lastForwarded(ctx); fwd != "" {
			return fwd
		}
		return "local"
	}
	host, _, err := net.SplitHostPort(p.Addr.String())
	if err != nil {
		return p.Addr.String()
	}
	return host
}

// ForwardedFor is the X-Forwarded-For a call carries ("" when none): for
// logs only, as anyone may send it.
func ForwardedFor(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	return strings.Join(md.Get("x-forwarded-for"), ", ")
}

func lastForwarded(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get("x-forwarded-for")
	if len(vals) == 0 {
		return ""
	}
	parts := strings.Split(vals[len(vals)-1], ",")
	return strings.TrimSpace(parts[len(parts)-1])
}
