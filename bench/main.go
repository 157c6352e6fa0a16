// Command bench measures gpumon on this machine side by side with a minimal
// reimplementation of the original system's server (bench/baseline), and
// writes the results as markdown and JSON. `make bench` runs it.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// bench holds what every scenario needs.
type bench struct {
	root    string // repository root
	bin     string // built binaries
	tmp     string // logs and data dirs
	reps    int
	quick   bool
	rows    []Row
	notes   []string
	started time.Time
	// basePost is the baseline's best POST rate (requests/s), for ratios.
	basePost float64
	// natsProcs are the cluster section's NATS servers.
	natsProcs []*proc
}

func main() {
	root := flag.String("root", "..", "repository `dir`")
	bin := flag.String("bin", "results/bin", "`dir` with gpumon-hub, gpumon-agent and gpumon-loadgen")
	out := flag.String("out", "results", "`dir` for results.md and results.json")
	doc := flag.String("doc", "", "also write the markdown to this `file` (docs/BENCHMARKS.md)")
	reps := flag.Int("reps", 3, "repetitions of each measurement (medians are reported)")
	quick := flag.Bool("quick", false, "short runs, for trying the harness out")
	only := flag.String("only", "", "comma-separated sections to run (post,grpc,read,live,watch,agent,cluster; read includes live); all when empty")
	flag.Parse()
	b := &bench{root: abs(*root), bin: abs(*bin), tmp: abs(filepath.Join(*out, "tmp")), reps: *reps, quick: *quick, started: time.Now()}
	if err := os.MkdirAll(b.tmp, 0o755); err != nil {
		fail(err)
	}
	machine := describeMachine()
	fmt.Printf("bench: %s\nbench: payload %s\n", machine, payloadSummary())
	sections := []struct {
		name string
		run  func() error
	}{
		{"post", b.restIngest},
		{"grpc", b.grpcIngest},
		{"read", b.readPath},
		{"live", b.readLives},
		{"watch", b.watch},
		{"agent", b.agentCost},
		{"cluster", b.cluster},
	}
	for _, s := range sections {
		if *only != "" && !strings.Contains(","+*only+",", ","+s.name+",") {
			continue
		}
		if *only == "" && s.name == "live" {
			continue // part of read
		}
		t0, load0 := time.Now(), loadAverage()
		fmt.Printf("bench: %s ... (load average %s)\n", s.name, load0)
		if err := s.run(); err != nil {
			b.notes = append(b.notes, fmt.Sprintf("section %s failed: %v", s.name, err))
			fmt.Fprintf(os.Stderr, "bench: %s: %v\n", s.name, err)
		}
		fmt.Printf("bench: %s done in %s\n", s.name, time.Since(t0).Round(time.Second))
		b.notes = append(b.notes, fmt.Sprintf("section %s took %s; 1-minute load average of the machine %s at its start, %s at its end (2 cores: above 2, other work was waiting for CPU too)",
			s.name, time.Since(t0).Round(time.Second), load0, loadAverage()))
	}
	res := Results{Machine: machine, Payload: payloadSummary(), Started: b.started.UTC(), Took: time.Since(b.started).Round(time.Second).String(), Reps: b.reps, Rows: b.rows, Notes: b.notes}
	if err := res.write(abs(*out), *doc); err != nil {
		fail(err)
	}
	fmt.Printf("bench: finished in %s; results in %s\n", res.Took, filepath.Join(*out, "results.md"))
	_ = os.RemoveAll(filepath.Join(b.tmp))
}

// dur shortens d in quick mode.
func (b *bench) dur(d time.Duration) time.Duration {
	if b.quick {
		return max(d/4, time.Second)
	}
	return d
}

func (b *bench) add(r Row) {
	b.rows = append(b.rows, r)
	fmt.Printf("  %-58s baseline %-14s gpumon %-16s %s %s\n", r.Name, r.Baseline, r.Hub, r.Ratio, r.Status)
}

func abs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		fail(err)
	}
	return a
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "bench: %v\n", err)
	os.Exit(1)
}
