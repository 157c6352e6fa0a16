// Package app assembles gpumon-agent: configuration, collectors and the
// stream to the hub.
package app

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/gpumon/gpumon/agent/internal/sim"
	"github.com/gpumon/gpumon/agent/internal/stream"
	"github.com/gpumon/gpumon/common/tlsclient"
)

// Config is everything the agent is started with.
type Config struct {
	Hub   string
	Token string
	// TokenFile holds the token instead (never on a command line).
	TokenFile string
	// TokenInArgs: --token was given on the command line, where every user
	// of the machine can read it.
	TokenInArgs bool
	// StateDir keeps the machine secret the hub issues (DefaultStateDir
	// when empty).
	StateDir       string
	Interval       time.Duration
	Hostname       string
	Simulate       string
	Once           bool
	JSON           bool
	AllowKill      bool
	AllowForceKill bool
	// AllowKillNonGPU widens kills from GPU processes to every reported one.
	AllowKillNonGPU bool
	Disks           []string
	TLS             tlsclient.Options
	Buffer          time.Duration
	DockerInterval  time.Duration
	Keepalive       time.Duration
	// HostRoot is where the host's filesystem is mounted when the agent runs
	// in a container ("/" otherwise): /proc, /etc, / and screen sockets are
	// read below it.
	HostRoot string
	// MetricsAddr, when set, is where this machine's series are served for
	// Prometheus to scrape.
	MetricsAddr string
	Version     string
	Log         *slog.Logger
}

// Validate checks the configuration before any I/O.
func (c *Config) Validate() error {
	var errs []error
	if !c.Once {
		if _, err := stream.ParseHubs(c.Hub); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Interval < stream.MinInterval || c.Interval > stream.MaxInterval {
		errs = append(errs, fmt.Errorf("--interval %s: want between %s and %s", c.Interval, stream.MinInterval, stream.MaxInterval))
	}
	if c.Keepalive != 0 && (c.Keepalive < 5*time.Second || c.Keepalive > 10*time.Minute) {
		errs = append(errs, fmt.Errorf("--keepalive %s: want between 5s and 10m", c.Keepalive))
	}
	if c.Buffer < 0 || c.Buffer > 24*time.Hour {
		errs = append(errs, fmt.Errorf("--buffer %s: want between 0 and 24h", c.Buffer))
	}
	if c.Simulate != "" && sim.Describe(c.Simulate) == "" {
		errs = append(errs, fmt.Errorf("--simulate %q: unknown profile (valid: %s)", c.Simulate, strings.Join(sim.Profiles(), ", ")))
	}
	if c.JSON && !c.Once {
		errs = append(errs, errors.New("--json goes with --once"))
	}
	if c.Token != "" && c.TokenFile != "" {
		errs = append(errs, errors.New("--token and --token-file: give one of them"))
	}
	if err := validateMetricsAddr(c.MetricsAddr, c.Once); err != nil {
		errs = append(errs, err)
	}
	if c.AllowForceKill && !c.AllowKill {
		errs = append(errs, errors.New("--allow-force-kill needs --allow-kill"))
	}
	if c.AllowKillNonGPU && !c.AllowKill {
		errs = append(errs, errors.New("--allow-kill-non-gpu needs --allow-kill"))
	}
	if err := c.TLS.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.HostRoot != "" && !strings.HasPrefix(c.HostRoot, "/") {
		errs = append(errs, fmt.Errorf("--host-root %q: want an absolute path", c.HostRoot))
	}
	for _, d := range c.Disks {
		if !strings.HasPrefix(d, "/") {
			errs = append(errs, fmt.Errorf("--disk %q: want an absolute mount point", d))
		}
	}
	if c.Hostname != "" && strings.ContainsAny(c.Hostname, " /\t") {
		errs = append(errs, fmt.Errorf("--hostname %q: letters, digits, '.', '-' and '_' only", c.Hostname))
	}
	return errors.Join(errs...)
}

// Run runs the agent until ctx is done (or, with --once, prints one sample).
func Run(ctx context.Context, c Config, stdout io.Writer) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.Hostname == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("read hostname (set --hostname): %w", err)
		}
		c.Hostname = h
	}
	var tlsCfg *tls.Config
	if c.TLS.Enabled() {
		var err error
		if tlsCfg, err = c.TLS.Config(); err != nil {
			return err
		}
	}
	if !c.Once {
		if err := c.readToken(); err != nil {
			return err
		}
	}
	runner, closeAll, err := c.collectors()
	if err != nil {
		return err
	}
	defer closeAll()
	s := &sampler{runner: runner, hostname: c.Hostname, machineID: machineID(c.HostRoot, c.Hostname), version: c.Version, simulated: c.Simulate != ""}
	if c.Once {
		return once(ctx, s, c.JSON, stdout)
	}
	if os.Geteuid() != 0 {
		c.Log.Info("running as a regular user: other users' screen sessions and some process details may be missing, and kills are limited to this user's processes", "uid", os.Geteuid())
	}
	state := stream.StateDir(cmp.Or(c.StateDir, DefaultStateDir()))
	if err := state.Prepare(); err != nil {
		return fmt.Errorf("%w (set --state-dir)", err)
	}
	secret, err := state.LoadSecret()
	if err != nil {
		return err
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	scrape, err := c.startExporter(ctx)
	if err != nil {
		return err
	}
	defer scrape.wait()
	defer stop()
	client := stream.New(stream.Config{
		Hub: c.Hub, Token: c.Token, TLS: tlsCfg, Hostname: c.Hostname, MachineID: s.machineID,
		Version: c.Version, Interval: c.Interval, Buffer: c.Buffer, Simulated: c.Simulate != "",
		Secret: secret, SaveSecret: state.SaveSecret,
		Kill: stream.KillPolicy{Allow: c.AllowKill, AllowForce: c.AllowForceKill, AnyProcess: c.AllowKillNonGPU}, Keepalive: c.Keepalive, Log: c.Log,
		Observe: scrape.observe,
	}, s)
	c.Log.Info("agent started", "hub", c.Hub, "hostname", c.Hostname, "interval", c.Interval, "simulate", c.Simulate,
		"allow_kill", c.AllowKill, "allow_kill_non_gpu", c.AllowKillNonGPU, "state_dir", string(state))
	return client.Run(ctx)
}
