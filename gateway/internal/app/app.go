// Package app assembles gpumon-gateway: configuration, the connection to the
// hub and the HTTP server.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/gpumon/gpumon/common/tlsclient"
	"github.com/gpumon/gpumon/gateway"
)

// Config is everything the gateway is started with.
type Config struct {
	HTTPAddr string
	Hub      string
	// Token is sent to the hub on requests that carry no Authorization
	// header of their own.
	Token string
	// TLS to the hub; off when no option is set.
	TLS         tlsclient.Options
	CORSOrigins []string
	Version     string
	Log         *slog.Logger
}

// Validate checks the configuration before any network I/O.
func (c *Config) Validate() error {
	var errs []error
	for _, a := range []struct{ flag, addr string }{{"--http-addr", c.HTTPAddr}, {"--hub", c.Hub}} {
		if _, port, err := net.SplitHostPort(a.addr); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("%s %q: want host:port", a.flag, a.addr))
		}
	}
	if err := c.TLS.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (c *Config) creds() (credentials.TransportCredentials, error) {
	if !c.TLS.Enabled() {
		return insecure.NewCredentials(), nil
	}
	cfg, err := c.TLS.Config()
	if err != nil {
		return nil, err
	}
	return credentials.NewTLS(cfg), nil
}

// Run serves until ctx is done, then shuts the HTTP server down gracefully.
func Run(ctx context.Context, c Config, stdout io.Writer) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	creds, err := c.creds()
	if err != nil {
		return err
	}
	// The hub bounds GET /api/gpu-stats by its capacity flags, to at most
	// what one gRPC message holds; the gateway takes any answer it sends.
	conn, err := grpc.NewClient(c.Hub, grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(math.MaxInt32)))
	if err != nil {
		return fmt.Errorf("connect to hub %s: %w", c.Hub, err)
	}
	defer conn.Close()
	handler, err := gateway.New(ctx, conn, gateway.Options{
		CORS:         gateway.CORS{Origins: c.CORSOrigins, AnyOriginReads: true},
		DefaultToken: c.Token,
		Location:     time.Local,
		Logger:       c.Log,
		Version:      c.Version,
		Ready:        hubReady(healthpb.NewHealthClient(conn), c.Hub),
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.HTTPAddr, err)
	}
	srv := gateway.NewHTTPServer(handler, nil)
	fmt.Fprintf(stdout, "gpumon-gateway %s\n  REST:  http://%s/\n  hub:   %s\n", c.Version, ln.Addr(), c.Hub)
	c.Log.Info("gateway started", "http", ln.Addr().String(), "hub", c.Hub, "tls", c.TLS.Enabled())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// hubReady answers /readyz: the hub's gRPC health service says SERVING.
func hubReady(health healthpb.HealthClient, hub string) func(context.Context) error {
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{})
		if err != nil {
			return fmt.Errorf("hub %s: %w", hub, err)
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("hub %s is %s", hub, resp.GetStatus())
		}
		return nil
	}
}
