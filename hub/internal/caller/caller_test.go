package caller

import (
	"context"
	"net"
	"testing"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

type addr struct{ network, s string }

func (a addr) Network() string { return a.network }
func (a addr) String() string  { return a.s }

func TestAddress(t *testing.T) {
	tests := []struct {
		name string
		peer net.Addr
		xff  []string
		want string
	}{
		{"a gRPC client", &net.TCPAddr{IP: net.IPv4(10, 0, 0, 7), Port: 5555}, nil, "10.0.0.7"},
		{"a gRPC client claiming another address", &net.TCPAddr{IP: net.IPv4(10, 0, 0, 7), Port: 5555}, []string{"1.2.3.4"}, "10.0.0.7"},
		{"the hub's REST gateway", addr{InProcess, "bufconn"}, []string{"192.168.1.9"}, "192.168.1.9"},
		{"the gateway after a client's own header", addr{InProcess, "bufconn"}, []string{"1.2.3.4, 192.168.1.9"}, "192.168.1.9"},
		{"the gateway without a header", addr{InProcess, "bufconn"}, nil, "local"},
		{"IPv6", &net.TCPAddr{IP: net.ParseIP("::1"), Port: 1}, nil, "::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: tt.peer})
			if tt.xff != nil {
				ctx = metadata.NewIncomingContext(ctx, metadata.Pairs("x-forwarded-for", tt.xff[0]))
			}
			if got := Address(ctx); got != tt.want {
				t.Errorf("Address = %q, want %q", got, tt.want)
			}
		})
	}
	if got := Address(context.Background()); got != "unknown" {
		t.Errorf("no peer: %q", got)
	}
}
