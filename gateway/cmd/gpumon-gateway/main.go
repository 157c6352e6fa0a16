// Command gpumon-gateway serves gpumon's REST API as a separate, stateless
// process that dials a hub over gRPC. Run several behind a load balancer to
// scale reads.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/gpumon/gpumon/gateway"
	"github.com/gpumon/gpumon/gateway/flagenv"
)

// Set at build time (see Makefile).
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

const summary = `gpumon-gateway: gpumon's REST API (including the original /api/gpu-stats
routes) as a stateless process in front of a hub.

Usage: gpumon-gateway --hub HUB:7865 [flags]`

type config struct {
	httpAddr, hub, token, tlsCA, tlsServerName string
	cors                                       []string
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	var cfg config
	fs := flag.NewFlagSet("gpumon-gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.httpAddr, "http-addr", ":7864", "`address` to serve HTTP on")
	fs.StringVar(&cfg.hub, "hub", "localhost:7865", "`address` of the hub's gRPC port")
	fs.StringVar(&cfg.token, "token", "", "`token` sent to the hub for requests that carry no Authorization header (e.g. the API token)")
	fs.StringVar(&cfg.tlsCA, "tls-ca", "", "PEM CA `file` to verify the hub's certificate (enables TLS to the hub)")
	fs.StringVar(&cfg.tlsServerName, "tls-server-name", "", "`name` to expect in the hub's certificate")
	cors := fs.String("cors-origins", "", "comma-separated web `origins` allowed to call every route (\"*\": any); any origin may GET")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = flagenv.Usage(fs, "GPUMON_", summary)
	if err := flagenv.Parse(fs, args, "GPUMON_"); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "gpumon-gateway: %v\n", err)
		return 2
	}
	if *showVersion {
		fmt.Fprintf(stdout, "gpumon-gateway %s (commit %s, built %s)\n", version, commit, date)
		return 0
	}
	cfg.cors = flagenv.List(*cors)
	if err := cfg.validate(); err != nil {
		fmt.Fprintf(stderr, "gpumon-gateway: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, cfg, stdout, log); err != nil {
		fmt.Fprintf(stderr, "gpumon-gateway: %v\n", err)
		return 1
	}
	return 0
}

func (c config) validate() error {
	for name, addr := range map[string]string{"--http-addr": c.httpAddr, "--hub": c.hub} {
		if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
			return fmt.Errorf("%s %q: want host:port", name, addr)
		}
	}
	if c.tlsCA != "" {
		if _, err := os.Stat(c.tlsCA); err != nil {
			return fmt.Errorf("--tls-ca: %w", err)
		}
	}
	return nil
}

func (c config) creds() (credentials.TransportCredentials, error) {
	if c.tlsCA == "" {
		return insecure.NewCredentials(), nil
	}
	pem, err := os.ReadFile(c.tlsCA)
	if err != nil {
		return nil, fmt.Errorf("read --tls-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("--tls-ca holds no PEM certificate")
	}
	return credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: c.tlsServerName, MinVersion: tls.VersionTLS12}), nil
}

func serve(ctx context.Context, c config, stdout io.Writer, log *slog.Logger) error {
	creds, err := c.creds()
	if err != nil {
		return err
	}
	conn, err := grpc.NewClient(c.hub, grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(256<<20)))
	if err != nil {
		return fmt.Errorf("connect to hub %s: %w", c.hub, err)
	}
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	handler, err := gateway.New(ctx, conn, gateway.Options{
		CORS:         gateway.CORS{Origins: c.cors, AnyOriginReads: true},
		DefaultToken: c.token,
		Location:     time.Local,
		Logger:       log,
		Ready: func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{})
			if err != nil {
				return fmt.Errorf("hub %s: %w", c.hub, err)
			}
			if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				return fmt.Errorf("hub %s is %s", c.hub, resp.GetStatus())
			}
			return nil
		},
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.httpAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.httpAddr, err)
	}
	srv := gateway.NewHTTPServer(handler, nil)
	fmt.Fprintf(stdout, "gpumon-gateway %s\n  REST:  http://%s/\n  hub:   %s\n", version, ln.Addr(), c.hub)
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
