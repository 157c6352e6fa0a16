package app

import (
	"context"
	"flag"
	"fmt"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

func freeCommand() *command {
	return &command{
		name:    "free",
		summary: "free GPUs across the fleet, best first",
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.StringVar(&o.minMem, "min-mem", "0", "only GPUs with at least this much free `memory` (e.g. 20G, 512M)")
			fs.BoolVar(&o.idle, "idle", false, "only GPUs with no processes at all")
			fs.IntVar(&o.maxUtil, "max-util", 100, "only GPUs at or below this utilisation, `percent`")
			fs.BoolVar(&o.offline, "include-offline", false, "also list GPUs of offline machines (stale data)")
		},
		run: runFree,
	}
}

// FreeGPUJSON is one GPU in the --json output of gpumon free.
type FreeGPUJSON struct {
	Host        string  `json:"host"`
	GPU         int32   `json:"gpu"`
	UUID        string  `json:"uuid"`
	Name        string  `json:"name"`
	MemoryFree  uint32  `json:"memory_free_mib"`
	MemoryTotal uint32  `json:"memory_total_mib"`
	Utilization *uint32 `json:"utilization"`
	Temperature *uint32 `json:"temperature_c"`
	Processes   uint32  `json:"processes"`
	Online      bool    `json:"online"`
}

// FreeJSON is the --json output of gpumon free.
type FreeJSON struct {
	GPUs []FreeGPUJSON `json:"gpus"`
}

func runFree(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 {
		return usageError("free takes no arguments")
	}
	minMem, err := parseSize(e.opts.minMem)
	if err != nil {
		return usageError("--min-mem: %v", err)
	}
	if e.opts.maxUtil < 0 || e.opts.maxUtil > 100 {
		return usageError("--max-util: want a percentage from 0 to 100, not %d", e.opts.maxUtil)
	}
	c, err := e.client(e.common.token)
	if err != nil {
		return err
	}
	defer e.close()
	cctx, cancel := e.callCtx(ctx)
	defer cancel()
	maxUtil := uint32(e.opts.maxUtil)
	resp, err := c.ListFreeGpus(cctx, &gpumonv1.ListFreeGpusRequest{
		MinFreeMemory: minMem, MaxUtilization: &maxUtil, Idle: e.opts.idle, IncludeOffline: e.opts.offline,
	})
	if err != nil {
		return e.rpcError("list free GPUs", err)
	}
	out := FreeJSON{GPUs: []FreeGPUJSON{}}
	for _, g := range resp.GetGpus() {
		out.GPUs = append(out.GPUs, FreeGPUJSON{
			Host: g.GetMachine(), GPU: g.GetIndex(), UUID: g.GetUuid(), Name: g.GetName(),
			MemoryFree: g.GetMemoryFree(), MemoryTotal: g.GetMemoryTotal(), Utilization: g.Utilization,
			Temperature: g.Temperature, Processes: g.GetProcessCount(), Online: g.GetOnline(),
		})
	}
	if e.common.json {
		return writeJSON(e.Out, out)
	}
	if len(out.GPUs) == 0 {
		fmt.Fprintln(e.Out, "no free GPU matches (try a smaller --min-mem, or drop --idle)")
		return nil
	}
	tb := &table{
		head:  []string{"HOST", "GPU", "FREE", "TOTAL", "UTIL", "TEMP", "PROCS", "NAME"},
		max:   []int{24, 0, 0, 0, 0, 0, 0, 0},
		right: []bool{false, true, true, true, true, true, true, false},
	}
	for _, g := range out.GPUs {
		host := g.Host
		if !g.Online {
			host += " (offline)"
		}
		tb.add(host, fmt.Sprint(g.GPU), mib(float64(g.MemoryFree)), mib(float64(g.MemoryTotal)),
			optU32(g.Utilization, "%"), optU32(g.Temperature, "C"), fmt.Sprint(g.Processes), shortGPUName(g.Name))
	}
	tb.write(e.Out, width(e.Out))
	return nil
}
