package app

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func usageCommand() *command {
	return &command{
		name:    "usage",
		summary: "GPU-hours per user and machine, idle-held GPUs",
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.StringVar(&o.since, "since", "7d", "accounting `range` back from now (e.g. 7d, 36h, 90m)")
		},
		run: runUsage,
	}
}

// UsageRowJSON is one user or machine in gpumon usage --json.
type UsageRowJSON struct {
	Name              string  `json:"name"`
	GPUHours          float64 `json:"gpu_hours"`
	GPUMemoryGiBHours float64 `json:"gpu_memory_gib_hours"`
}

// IdleGPUJSON is one GPU held while idle.
type IdleGPUJSON struct {
	Host        string    `json:"host"`
	GPU         int32     `json:"gpu"`
	Name        string    `json:"name"`
	MemoryUsed  uint32    `json:"memory_used_mib"`
	Since       time.Time `json:"since"`
	IdleSeconds float64   `json:"idle_seconds"`
	Users       []string  `json:"users"`
}

// UsageJSON is the --json output of gpumon usage.
type UsageJSON struct {
	Start    time.Time      `json:"start"`
	End      time.Time      `json:"end"`
	Users    []UsageRowJSON `json:"users"`
	Machines []UsageRowJSON `json:"machines"`
	Total    UsageRowJSON   `json:"total"`
	IdleHeld []IdleGPUJSON  `json:"idle_held"`
	// IdleAfterSeconds is the hub's --idle-after: how long a GPU is idle
	// while held before it is listed.
	IdleAfterSeconds float64 `json:"idle_after_seconds"`
}

func runUsage(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 {
		return usageError("usage takes no arguments (use --since)")
	}
	since, err := parseSince(e.opts.since)
	if err != nil {
		return usageError("--since: %v", err)
	}
	c, cctx, end, err := e.readCall(ctx)
	if err != nil {
		return err
	}
	defer end()
	now := time.Now()
	resp, err := c.GetUsage(cctx, &gpumonv1.GetUsageRequest{
		Start: timestamppb.New(now.Add(-since)), End: timestamppb.New(now),
	})
	if err != nil {
		return e.rpcError("usage", err)
	}
	out := UsageJSON{Start: resp.GetStart().AsTime().UTC(), End: resp.GetEnd().AsTime().UTC(),
		Users: usageRows(resp.GetUsers()), Machines: usageRows(resp.GetMachines()), IdleHeld: []IdleGPUJSON{},
		IdleAfterSeconds: resp.GetIdleAfterSeconds()}
	if t := resp.GetTotal(); t != nil {
		out.Total = usageRows([]*gpumonv1.UsageRow{t})[0]
	}
	for _, g := range resp.GetIdleHeld() {
		out.IdleHeld = append(out.IdleHeld, IdleGPUJSON{
			Host: g.GetMachine(), GPU: g.GetIndex(), Name: g.GetName(), MemoryUsed: g.GetMemoryUsed(),
			Since: g.GetSince().AsTime().UTC(), IdleSeconds: g.GetIdleSeconds(), Users: append([]string{}, g.GetUsers()...),
		})
	}
	if e.common.json {
		return writeJSON(e.Out, out)
	}
	writeUsage(e, out)
	return nil
}

func usageRows(rows []*gpumonv1.UsageRow) []UsageRowJSON {
	out := []UsageRowJSON{}
	for _, r := range rows {
		out = append(out, UsageRowJSON{Name: r.GetName(), GPUHours: r.GetGpuHours(), GPUMemoryGiBHours: r.GetGpuMemoryGibHours()})
	}
	return out
}

func writeUsage(e *env, out UsageJSON) {
	cols := width(e.Out)
	fmt.Fprintf(e.Out, "GPU use from %s to %s\n\n", out.Start.Local().Format("2006-01-02 15:04"), out.End.Local().Format("2006-01-02 15:04"))
	for _, part := range []struct {
		title string
		rows  []UsageRowJSON
	}{{"USER", out.Users}, {"MACHINE", out.Machines}} {
		if len(part.rows) == 0 {
			fmt.Fprintf(e.Out, "no GPU use by any %s in this range\n\n", strings.ToLower(part.title))
			continue
		}
		tb := &table{head: []string{part.title, "GPU-HOURS", "GPU MEM GiB-HOURS"}, max: []int{30, 0, 0}, right: []bool{false, true, true}}
		for _, r := range part.rows {
			tb.add(r.Name, fmt.Sprintf("%.2f", r.GPUHours), fmt.Sprintf("%.1f", r.GPUMemoryGiBHours))
		}
		tb.write(e.Out, cols)
		if part.title == "USER" {
			writeUserNotes(e, out)
		}
		fmt.Fprintln(e.Out)
	}
	fmt.Fprintf(e.Out, "fleet total: %.2f GPU-hours, %.1f GPU memory GiB-hours\n\n", out.Total.GPUHours, out.Total.GPUMemoryGiBHours)
	after := (time.Duration(out.IdleAfterSeconds) * time.Second).String()
	if len(out.IdleHeld) == 0 {
		fmt.Fprintf(e.Out, "no GPU has been held while idle for %s or longer\n", after)
		return
	}
	fmt.Fprintf(e.Out, "GPUs held while idle for %s or longer:\n", after)
	tb := &table{head: []string{"HOST", "GPU", "HELD", "IDLE FOR", "USERS"}, max: []int{24, 0, 0, 0, 0}, right: []bool{false, true, true, true, false}}
	for _, g := range out.IdleHeld {
		idle := (time.Duration(g.IdleSeconds) * time.Second).Round(time.Minute)
		tb.add(g.Host, fmt.Sprint(g.GPU), mib(float64(g.MemoryUsed)), idle.String(), strings.Join(g.Users, ","))
	}
	tb.write(e.Out, cols)
}

// writeUserNotes says why users' GPU-hours may exceed the machines' and who
// "unknown" is.
func writeUserNotes(e *env, out UsageJSON) {
	var users, machines float64
	for _, r := range out.Users {
		users += r.GPUHours
	}
	for _, r := range out.Machines {
		machines += r.GPUHours
	}
	if users > machines+0.005 {
		fmt.Fprintf(e.Out, "users' GPU-hours add up to %.2f, the machines' to %.2f: a GPU\n", users, machines)
		fmt.Fprintln(e.Out, "that users share counts for each of them (GPU memory adds up)")
	}
	for _, r := range out.Users {
		if r.Name == "unknown" {
			fmt.Fprintln(e.Out, "unknown: GPU processes whose owner the agent cannot see (e.g. in a")
			fmt.Fprintln(e.Out, "container with its own PID namespace)")
			break
		}
	}
}
