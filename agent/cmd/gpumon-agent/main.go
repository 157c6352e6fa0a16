// Command gpumon-agent samples a GPU machine and streams it to a gpumon hub.
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
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gpumon/gpumon/agent/internal/app"
	"github.com/gpumon/gpumon/agent/internal/sim"
	"github.com/gpumon/gpumon/common/flagenv"
)

// Set at build time (see Makefile).
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

const summary = `gpumon-agent: samples this machine's GPUs, processes, containers and
screen/tmux sessions and streams them to a gpumon hub.

Usage:
  gpumon-agent --hub HOST:7865 --token-file FILE   run as a daemon
  gpumon-agent --once [--json]                     print one sample and exit
  gpumon-agent --simulate=dgxh100 ...              simulated GPUs (no NVIDIA driver needed)`

func main() {
	if sim.IsWorker() {
		// A simulated job's process, started by an agent with --simulate.
		os.Exit(sim.RunWorker(os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, showVersion, level, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "gpumon-agent: %v\n", err)
		return 2
	}
	if showVersion {
		fmt.Fprintf(stdout, "gpumon-agent %s (commit %s, built %s)\n", version, commit, date)
		return 0
	}
	cfg.Version = version
	cfg.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx, cfg, stdout); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "gpumon-agent: %v\n", err)
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (app.Config, bool, slog.Level, error) {
	var cfg app.Config
	fs := flag.NewFlagSet("gpumon-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Hub, "hub", "localhost:7865", "`address` of the hub's gRPC port, or several hubs of one cluster separated by commas (fails over from one to the next)")
	fs.StringVar(&cfg.Token, "token", "", "agent `token` (the hub keeps it in its data dir); prefer --token-file or this variable: a command line is visible to every user")
	fs.StringVar(&cfg.TokenFile, "token-file", "", "`file` holding the agent token (mode 600)")
	fs.StringVar(&cfg.StateDir, "state-dir", "", "`directory` for the machine secret the hub issues (default: /var/lib/gpumon-agent as root, else ~/.local/state/gpumon-agent)")
	fs.DurationVar(&cfg.Interval, "interval", 2*time.Second, "sampling `interval` (the hub may override it)")
	fs.StringVar(&cfg.Hostname, "hostname", "", "`name` to report (default: this machine's hostname)")
	fs.StringVar(&cfg.Simulate, "simulate", "", "simulate GPUs with `profile` "+strings.Join(sim.Profiles(), ", ")+
		"; the simulated jobs are harmless processes it starts (in screen/tmux sessions where installed); system data stays real")
	fs.BoolVar(&cfg.Once, "once", false, "take one sample, print it and exit")
	fs.BoolVar(&cfg.JSON, "json", false, "with --once: print the report as JSON")
	fs.BoolVar(&cfg.AllowKill, "allow-kill", false, "obey the hub's kill commands for processes using a GPU (SIGTERM; never PID 1, the agent, or unreported PIDs)")
	fs.BoolVar(&cfg.AllowForceKill, "allow-force-kill", false, "with --allow-kill: also send SIGKILL when asked")
	fs.BoolVar(&cfg.AllowKillNonGPU, "allow-kill-non-gpu", false, "with --allow-kill: also stop reported processes that use no GPU")
	disks := fs.String("disk", "", "comma-separated extra mount `points` to report besides /")
	cfg.TLS.Register(fs)
	fs.DurationVar(&cfg.Buffer, "buffer", 10*time.Minute, "how much `history` to keep while the hub is unreachable")
	fs.StringVar(&cfg.HostRoot, "host-root", "/", "`directory` where the host's filesystem is mounted when the agent runs in a container (reads its /proc, /etc, / and screen sockets)")
	fs.DurationVar(&cfg.Keepalive, "keepalive", 20*time.Second, "ping `interval` on the stream; a silent hub is given up on 10 s after a ping")
	fs.DurationVar(&cfg.DockerInterval, "docker-interval", 10*time.Second, "how often container CPU and memory are refreshed (`interval`)")
	fs.StringVar(&cfg.MetricsAddr, "metrics-addr", "", "serve this machine's series for Prometheus at `address`/metrics, e.g. :9400 (off when empty; no token is asked)")
	level := fs.String("log-level", "info", "log `level`: debug, info, warn, error")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := flagenv.Command(fs, args, summary); err != nil {
		return cfg, false, 0, err
	}
	cfg.Disks = flagenv.List(*disks)
	cfg.TokenInArgs = slices.ContainsFunc(args, func(a string) bool {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		return strings.HasPrefix(a, "-") && name == "token"
	})
	lvl, err := flagenv.LogLevel(*level)
	return cfg, *showVersion, lvl, err
}
