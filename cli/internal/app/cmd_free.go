package app

import (
	"context"
	"flag"
	"fmt"
	"strconv"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

func freeCommand() *command {
	return &command{
		name:    "free",
		summary: "free GPUs across the fleet, best first",
		flags: func(fs *flag.FlagSet, o *opts) {
			freeFilterFlags(fs, o)
			fs.BoolVar(&o.offline, "include-offline", false, "also list GPUs of offline machines (stale data)")
		},
		run: runFree,
	}
}

// freeFilterFlags are what counts as free, for gpumon free and wait: the
// hub's definition, with its thresholds changed.
func freeFilterFlags(fs *flag.FlagSet, o *opts) {
	fs.StringVar(&o.minMem, "min-mem", "0", "only GPUs with at least this much free `memory` (e.g. 20G, 512M)")
	fs.BoolVar(&o.idle, "idle", false, "only GPUs with no processes at all")
	fs.Var(&o.maxUtil, "max-util", "only GPUs at or below this utilisation, `percent` (the hub's default: 10)")
	fs.Var(&o.minFree, "min-free-percent", "only GPUs with at least this `percent` of their memory free (the hub's default: 90)")
	fs.BoolVar(&o.shared, "shared", false, "also GPUs that run compute processes (to share a card)")
}

// percentFlag is an optional percentage: unset leaves the hub's default.
type percentFlag struct {
	set   bool
	value uint32
}

func (p *percentFlag) String() string {
	if p == nil || !p.set {
		return ""
	}
	return strconv.FormatUint(uint64(p.value), 10)
}

func (p *percentFlag) Set(s string) error {
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil || v > 100 {
		return fmt.Errorf("want a percentage from 0 to 100, not %q", s)
	}
	p.set, p.value = true, uint32(v)
	return nil
}

// ptr is the value for an optional request field.
func (p *percentFlag) ptr() *uint32 {
	if !p.set {
		return nil
	}
	v := p.value
	return &v
}

// FreeGPUJSON is one GPU in the --json output of gpumon free.
type FreeGPUJSON struct {
	Host             string  `json:"host"`
	GPU              int32   `json:"gpu"`
	UUID             string  `json:"uuid"`
	Name             string  `json:"name"`
	MemoryFree       uint32  `json:"memory_free_mib"`
	MemoryTotal      uint32  `json:"memory_total_mib"`
	Utilization      *uint32 `json:"utilization"`
	Temperature      *uint32 `json:"temperature_c"`
	Processes        uint32  `json:"processes"`
	ComputeProcesses uint32  `json:"compute_processes"`
	Score            float64 `json:"score"`
	Online           bool    `json:"online"`
}

// FreeCriteriaJSON is what counted as free.
type FreeCriteriaJSON struct {
	MinFreeMemory  uint32 `json:"min_free_mib"`
	MinFreePercent uint32 `json:"min_free_percent"`
	MaxUtilization uint32 `json:"max_utilization"`
	Idle           bool   `json:"idle"`
	Shared         bool   `json:"shared"`
	IncludeOffline bool   `json:"include_offline"`
}

// FreeJSON is the --json output of gpumon free.
type FreeJSON struct {
	GPUs     []FreeGPUJSON    `json:"gpus"`
	Criteria FreeCriteriaJSON `json:"criteria"`
}

func runFree(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 {
		return usageError("free takes no arguments")
	}
	minMem, err := parseSize(e.opts.minMem)
	if err != nil {
		return usageError("--min-mem: %v", err)
	}
	c, cctx, end, err := e.readCall(ctx)
	if err != nil {
		return err
	}
	defer end()
	resp, err := c.ListFreeGpus(cctx, &gpumonv1.ListFreeGpusRequest{
		MinFreeMemory: minMem, MaxUtilization: e.opts.maxUtil.ptr(), MinFreePercent: e.opts.minFree.ptr(),
		Idle: e.opts.idle, Shared: e.opts.shared, IncludeOffline: e.opts.offline,
	})
	if err != nil {
		return e.rpcError("list free GPUs", err)
	}
	out := freeJSON(resp)
	if e.common.json {
		return writeJSON(e.Out, out)
	}
	writeFree(e, out)
	return nil
}

func freeJSON(resp *gpumonv1.ListFreeGpusResponse) FreeJSON {
	cr := resp.GetCriteria()
	out := FreeJSON{GPUs: []FreeGPUJSON{}, Criteria: FreeCriteriaJSON{
		MinFreeMemory: cr.GetMinFreeMemory(), MinFreePercent: cr.GetMinFreePercent(), MaxUtilization: cr.GetMaxUtilization(),
		Idle: cr.GetIdle(), Shared: cr.GetShared(), IncludeOffline: cr.GetIncludeOffline(),
	}}
	for _, g := range resp.GetGpus() {
		out.GPUs = append(out.GPUs, FreeGPUJSON{
			Host: g.GetMachine(), GPU: g.GetIndex(), UUID: g.GetUuid(), Name: g.GetName(),
			MemoryFree: g.GetMemoryFree(), MemoryTotal: g.GetMemoryTotal(), Utilization: g.Utilization,
			Temperature: g.Temperature, Processes: g.GetProcessCount(), ComputeProcesses: g.GetComputeProcessCount(),
			Score: g.GetScore(), Online: g.GetOnline(),
		})
	}
	return out
}

func writeFree(e *env, out FreeJSON) {
	cr := out.Criteria
	what := "no compute process"
	switch {
	case cr.Idle:
		what = "no process at all"
	case cr.Shared:
		what = "compute processes allowed"
	}
	fmt.Fprintf(e.Out, "free: %s, util <= %d%%, >= %d%% of memory free\n", what, cr.MaxUtilization, cr.MinFreePercent)
	if cr.MinFreeMemory > 0 {
		fmt.Fprintf(e.Out, "      and at least %s free\n", mib(float64(cr.MinFreeMemory)))
	}
	fmt.Fprintln(e.Out)
	if len(out.GPUs) == 0 {
		fmt.Fprintln(e.Out, "no free GPU matches (try --shared, a higher --max-util or a lower --min-free-percent or --min-mem)")
		return
	}
	tb := &table{
		head:  []string{"HOST", "GPU", "FREE", "TOTAL", "UTIL", "TEMP", "PROCS", "SCORE", "NAME"},
		max:   []int{24, 0, 0, 0, 0, 0, 0, 0, 0},
		right: []bool{false, true, true, true, true, true, true, true, false},
	}
	for _, g := range out.GPUs {
		host := g.Host
		if !g.Online {
			host += " (offline)"
		}
		tb.add(host, fmt.Sprint(g.GPU), mib(float64(g.MemoryFree)), mib(float64(g.MemoryTotal)),
			optU32(g.Utilization, "%"), optU32(g.Temperature, "C"), fmt.Sprint(g.Processes), pct(g.Score*100), shortGPUName(g.Name))
	}
	tb.write(e.Out, width(e.Out))
}
