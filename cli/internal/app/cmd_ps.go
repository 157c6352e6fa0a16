package app

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strings"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

func psCommand() *command {
	return &command{
		name:    "ps",
		summary: "GPU processes: user, memory, container, session",
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.StringVar(&o.user, "user", "", "only processes of this `user`")
			fs.StringVar(&o.host, "host", "", "only processes on this `machine`")
		},
		run: runPs,
	}
}

// SessionJSON is the screen or tmux session a process runs in.
type SessionJSON struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	User string `json:"user"`
}

// ProcessJSON is one GPU process in --json output (ps and top).
type ProcessJSON struct {
	Host        string       `json:"host"`
	PID         int32        `json:"pid"`
	User        string       `json:"user"`
	GPUs        []int32      `json:"gpus"`
	GPUMemory   uint32       `json:"gpu_memory_mib"`
	ContainerID string       `json:"container_id"`
	Container   string       `json:"container"`
	Session     *SessionJSON `json:"session"`
	Name        string       `json:"name"`
	Command     string       `json:"command"`
	CPUPercent  float64      `json:"cpu_percent"`
	// SMUtilization is the process's share of the GPU's SM time, percent;
	// nil where NVML does not give it.
	SMUtilization *uint32 `json:"sm_utilization"`
}

// PsJSON is the --json output of gpumon ps.
type PsJSON struct {
	Processes []ProcessJSON `json:"processes"`
}

// gpuProcesses lists the GPU processes of one report, most GPU memory first.
func gpuProcesses(host string, r *gpumonv1.Report, user string) []ProcessJSON {
	names := map[string]string{}
	for _, c := range r.GetSystemInfo().GetDockerContainers() {
		names[c.GetId()] = c.GetName()
	}
	var out []ProcessJSON
	for _, p := range r.GetSystemInfo().GetProcesses() {
		if !p.GetIsGpuProcess() || (user != "" && p.GetUsername() != user) {
			continue
		}
		gpus := p.GetGpuIds()
		if len(gpus) == 0 && p.GpuId != nil {
			gpus = []int32{p.GetGpuId()}
		}
		pj := ProcessJSON{
			Host: host, PID: p.GetPid(), User: p.GetUsername(), GPUs: append([]int32{}, gpus...),
			GPUMemory: p.GetGpuMemoryUsage(), ContainerID: p.GetContainerId(), Container: names[p.GetContainerId()],
			Name: p.GetName(), Command: p.GetCmdline(), CPUPercent: p.GetCpuPercent(), SMUtilization: p.SmUtilization,
		}
		if s := p.GetSession(); s != nil && s.GetName() != "" {
			pj.Session = &SessionJSON{Kind: s.GetKind(), Name: s.GetName(), User: s.GetUser()}
		}
		out = append(out, pj)
	}
	slices.SortStableFunc(out, func(a, b ProcessJSON) int { return cmp.Compare(b.GPUMemory, a.GPUMemory) })
	return out
}

func runPs(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 {
		return usageError("ps takes no arguments (use --host and --user)")
	}
	c, cctx, end, err := e.readCall(ctx)
	if err != nil {
		return err
	}
	defer end()
	reports := map[string]*gpumonv1.Report{}
	if h := e.opts.host; h != "" {
		resp, err := c.GetMachine(cctx, &gpumonv1.GetMachineRequest{Machine: h})
		if err != nil {
			return e.rpcError("machine "+h, err)
		}
		reports[h] = resp.GetReport()
	} else {
		resp, err := c.GetGpuStats(cctx, &gpumonv1.GetGpuStatsRequest{})
		if err != nil {
			return e.rpcError("read the fleet", err)
		}
		reports = resp.GetMachines()
	}
	out := PsJSON{Processes: []ProcessJSON{}}
	for _, host := range slices.Sorted(maps.Keys(reports)) {
		out.Processes = append(out.Processes, gpuProcesses(host, reports[host], e.opts.user)...)
	}
	if e.common.json {
		return writeJSON(e.Out, out)
	}
	if len(out.Processes) == 0 {
		fmt.Fprintln(e.Out, "no GPU processes")
		return nil
	}
	writeProcesses(e, out.Processes, e.opts.host == "")
	return nil
}

// writeProcesses prints a process table; withHost adds the HOST column.
func writeProcesses(e *env, procs []ProcessJSON, withHost bool) {
	tb := &table{
		head:  []string{"HOST", "PID", "USER", "GPU", "GPU MEM", "WHERE", "COMMAND"},
		max:   []int{16, 0, 10, 7, 0, 16, 0},
		right: []bool{false, true, false, false, true, false, false},
	}
	for _, p := range procs {
		gpus := make([]string, len(p.GPUs))
		for i, g := range p.GPUs {
			gpus[i] = fmt.Sprint(g)
		}
		tb.add(p.Host, fmt.Sprint(p.PID), p.User, strings.Join(gpus, ","), mib(float64(p.GPUMemory)), where(p), commandLine(p))
	}
	if !withHost {
		tb.head, tb.max, tb.right = tb.head[1:], tb.max[1:], tb.right[1:]
		for i := range tb.rows {
			tb.rows[i] = tb.rows[i][1:]
		}
	}
	tb.write(e.Out, width(e.Out))
}

// where names the container or session a process runs in.
func where(p ProcessJSON) string {
	switch {
	case p.Container != "":
		return "docker:" + p.Container
	case p.ContainerID != "":
		return "docker:" + p.ContainerID
	case p.Session != nil:
		return p.Session.Kind + ":" + p.Session.Name
	}
	return "-"
}
