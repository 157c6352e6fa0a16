// Command gpumon-loadgen runs many simulated agents in one process against a
// hub, for load tests and benchmarks.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/gpumon/gpumon/agent/internal/loadgen"
	"github.com/gpumon/gpumon/agent/internal/stream"
	"github.com/gpumon/gpumon/common/flagenv"
)

// Set at build time (see Makefile).
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

const summary = `gpumon-loadgen: runs N simulated agents over real gRPC streams against a hub,
then prints what was sent and acknowledged. The machines differ as a lab's do
(DGX servers and workstations, some idle, some full, jobs that start and end
over minutes); --seed draws them, so the same seed gives the same fleet.

Usage: gpumon-loadgen --hub HOST:7865 --token TOKEN --agents 100 --duration 1m`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gpumon-loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	hub := fs.String("hub", "localhost:7865", "`address` of the hub's gRPC port, or several separated by commas (each agent starts at a random one)")
	token := fs.String("token", "", "agent `token` of the hub")
	agents := fs.Int("agents", 10, "`number` of simulated agents")
	interval := fs.Duration("interval", 2*time.Second, "sampling `interval` of each agent")
	duration := fs.Duration("duration", 30*time.Second, "how `long` to run")
	profile := fs.String("profile", "mixed", "fleet `profile`: "+strings.Join(loadgen.ProfileNames(), ", ")+
		" (mixed: a lab's machines; dgxh100 and small: one size, for benchmarks)")
	seed := fs.Uint64("seed", 1, "`seed` that draws the machines and their jobs")
	prefix := fs.String("prefix", "load", "hostname `prefix` of the simulated machines")
	full := fs.Bool("full", false, "send every snapshot whole, even to a hub that takes deltas (processes' static facts once per stream)")
	spread := fs.Bool("spread", false, "start the agents evenly over one interval, so they sample at different moments as a real fleet's agents do (default: all start, and sample, at the same moment)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the load generator to `file` (for go tool pprof), to see what the load itself costs")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := flagenv.Command(fs, args, summary); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "gpumon-loadgen: %v\n", err)
		return 2
	}
	if *showVersion {
		fmt.Fprintf(stdout, "gpumon-loadgen %s (commit %s, built %s)\n", version, commit, date)
		return 0
	}
	p, ok := loadgen.LookupProfile(*profile)
	var errs []error
	if !ok {
		errs = append(errs, fmt.Errorf("--profile %q: want one of %s", *profile, strings.Join(loadgen.ProfileNames(), ", ")))
	}
	if _, err := stream.ParseHubs(*hub); err != nil {
		errs = append(errs, err)
	}
	if *agents < 1 || *agents > 100000 {
		errs = append(errs, fmt.Errorf("--agents %d: want 1 to 100000", *agents))
	}
	if *interval < 10*time.Millisecond || *duration <= 0 {
		errs = append(errs, errors.New("--interval must be at least 10ms and --duration positive"))
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(stderr, "gpumon-loadgen: %v\n", err)
		return 2
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(stderr, "gpumon-loadgen: --cpuprofile: %v\n", err)
			return 2
		}
		defer func() {
			pprof.StopCPUProfile()
			if err := f.Close(); err != nil {
				fmt.Fprintf(stderr, "gpumon-loadgen: --cpuprofile: %v\n", err)
			}
		}()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res := loadgen.Run(ctx, loadgen.Config{
		Hub: *hub, Token: *token, Agents: *agents, Interval: *interval, Duration: *duration, Profile: p, Seed: *seed, Prefix: *prefix, Full: *full, Spread: *spread,
	}, stderr)
	fmt.Fprintln(stdout, res)
	if res.Connected == 0 {
		fmt.Fprintln(stderr, "gpumon-loadgen: no agent could connect (check --hub and --token)")
		return 1
	}
	return 0
}
