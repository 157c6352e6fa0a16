// Command gpumon-gateway serves gpumon's REST API as a separate, stateless
// process that dials a hub over gRPC. Run several behind a load balancer to
// scale reads.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/gpumon/gpumon/common/flagenv"
	"github.com/gpumon/gpumon/gateway/internal/app"
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

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, showVersion, level, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err == nil && showVersion {
		fmt.Fprintf(stdout, "gpumon-gateway %s (commit %s, built %s)\n", version, commit, date)
		return 0
	}
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintf(stderr, "gpumon-gateway: %v\n", err)
		return 2
	}
	cfg.Version = version
	cfg.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx, cfg, stdout); err != nil {
		fmt.Fprintf(stderr, "gpumon-gateway: %v\n", err)
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (app.Config, bool, slog.Level, error) {
	var cfg app.Config
	fs := flag.NewFlagSet("gpumon-gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.HTTPAddr, "http-addr", ":7864", "`address` to serve HTTP on")
	fs.StringVar(&cfg.Hub, "hub", "localhost:7865", "`address` of the hub's gRPC port")
	fs.StringVar(&cfg.Token, "token", "", "`token` sent to the hub for requests that carry no Authorization header (e.g. the API token)")
	cfg.TLS.Register(fs)
	cors := fs.String("cors-origins", "", "comma-separated web `origins` allowed to call every route (\"*\": any); any origin may GET")
	level := fs.String("log-level", "info", "log `level`: debug, info, warn, error")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := flagenv.Command(fs, args, summary); err != nil {
		return cfg, false, 0, err
	}
	cfg.CORSOrigins = flagenv.List(*cors)
	lvl, err := flagenv.LogLevel(*level)
	return cfg, *showVersion, lvl, err
}
