package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/gpumon/gpumon/common/wirejson"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// OnceWindow is the gap between the two samples of --once: CPU figures are
// deltas, so the first sample only primes them.
const OnceWindow = 500 * time.Millisecond

func once(ctx context.Context, s *sampler, asJSON bool, out io.Writer) error {
	s.Sample(ctx)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(OnceWindow):
	}
	r := s.Sample(ctx)
	if asJSON {
		var buf bytes.Buffer
		if err := json.Indent(&buf, wirejson.Marshal(r), "", "  "); err != nil {
			return fmt.Errorf("render report: %w", err)
		}
		buf.WriteByte('\n')
		_, err := out.Write(buf.Bytes())
		return err
	}
	return summary(r, out)
}

// summary prints a short human-readable view of one sample.
func summary(r *gpumonv1.Report, out io.Writer) error {
	sys := r.GetSystemInfo()
	fmt.Fprintf(out, "%s  %s  cpu %.1f%%  mem %.1f%%  disk %.1f%%  %d processes\n",
		r.GetHostname(), sys.GetIpAddress(), sys.GetCpuPercent(), sys.GetMemoryPercent(), sys.GetDiskPercent(), len(sys.GetProcesses()))
	if r.GetSimulated() {
		fmt.Fprintln(out, "(simulated GPUs)")
	}
	for _, g := range r.GetGpuData() {
		line := fmt.Sprintf("  GPU %d  %-28s  %5d / %5d MiB  util %3s  temp %3s  %d procs",
			g.GetId(), g.GetName(), g.GetMemoryUsed(), g.GetMemoryTotal(), opt(g.Utilization, "%"), opt(g.Temperature, "C"), len(g.GetProcesses()))
		if g.GetError() != "" {
			line += "  ERROR: " + g.GetError()
		}
		fmt.Fprintln(out, line)
	}
	for _, c := range r.GetCollectors() {
		if c.GetState() != gpumonv1.CollectorState_COLLECTOR_STATE_OK {
			fmt.Fprintf(out, "  %s: %s %s\n", c.GetName(), c.GetState(), c.GetMessage())
		}
	}
	return nil
}

func opt(v *uint32, unit string) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf("%d%s", *v, unit)
}
