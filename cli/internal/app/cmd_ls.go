package app

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"time"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

func lsCommand() *command {
	return &command{
		name:    "ls",
		summary: "the fleet: GPUs busy, GPU memory, hottest GPU, CPU",
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.BoolVar(&o.onlyOnln, "online", false, "only machines that are online")
		},
		run: runLs,
	}
}

// MachineJSON is one machine in --json output (ls and top).
type MachineJSON struct {
	Host           string    `json:"host"`
	Hostname       string    `json:"hostname"`
	Online         bool      `json:"online"`
	GPUs           uint32    `json:"gpus"`
	GPUsBusy       uint32    `json:"gpus_busy"`
	GPUMemoryUsed  uint32    `json:"gpu_memory_used_mib"`
	GPUMemoryTotal uint32    `json:"gpu_memory_total_mib"`
	GPUUtilization float64   `json:"gpu_utilization"`
	MaxTemperature *uint32   `json:"max_temperature_c"`
	CPUPercent     float64   `json:"cpu_percent"`
	MemoryPercent  float64   `json:"memory_percent"`
	DiskPercent    float64   `json:"disk_percent"`
	IPAddress      string    `json:"ip_address"`
	LastSeen       time.Time `json:"last_seen"`
	Simulated      bool      `json:"simulated"`
	CanKill        bool      `json:"can_kill"`
	GPUsFree       uint32    `json:"gpus_free"`
	GPUsIdleHeld   uint32    `json:"gpus_idle_held"`
	// Hub holds the machine's agent stream when hubs share the fleet
	// (absent on a single hub); Reconnecting: that hub stopped answering.
	Hub          string `json:"hub,omitempty"`
	Reconnecting bool   `json:"reconnecting,omitempty"`
}

// LsJSON is the --json output of gpumon ls.
type LsJSON struct {
	Machines []MachineJSON `json:"machines"`
	Totals   TotalsJSON    `json:"totals"`
}

// TotalsJSON sums the fleet; GPU figures are of online machines.
type TotalsJSON struct {
	Machines        uint32  `json:"machines"`
	MachinesOnline  uint32  `json:"machines_online"`
	MachinesOffline uint32  `json:"machines_offline"`
	GPUs            uint32  `json:"gpus"`
	GPUsBusy        uint32  `json:"gpus_busy"`
	GPUsFree        uint32  `json:"gpus_free"`
	GPUsIdleHeld    uint32  `json:"gpus_idle_held"`
	GPUsOffline     uint32  `json:"gpus_offline"`
	GPUMemoryUsed   float64 `json:"gpu_memory_used_mib"`
	GPUMemoryTotal  float64 `json:"gpu_memory_total_mib"`
}

func machineJSON(m *gpumonv1.MachineSummary) MachineJSON {
	return MachineJSON{
		Host: m.GetKey(), Hostname: m.GetHostname(), Online: m.GetOnline(),
		GPUs: m.GetGpuCount(), GPUsBusy: m.GetGpusBusy(),
		GPUMemoryUsed: m.GetGpuMemoryUsed(), GPUMemoryTotal: m.GetGpuMemoryTotal(),
		GPUUtilization: m.GetGpuUtilization(), MaxTemperature: m.MaxTemperature,
		CPUPercent: m.GetCpuPercent(), MemoryPercent: m.GetMemoryPercent(), DiskPercent: m.GetDiskPercent(),
		IPAddress: m.GetIpAddress(), LastSeen: m.GetLastSeen().AsTime().UTC(),
		Simulated: m.GetSimulated(), CanKill: m.GetCanKill(),
		GPUsFree: m.GetGpusFree(), GPUsIdleHeld: m.GetGpusIdleHeld(),
		Hub: m.GetHub(), Reconnecting: m.GetReconnecting(),
	}
}

func runLs(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 {
		return usageError("ls takes no arguments")
	}
	c, cctx, end, err := e.readCall(ctx)
	if err != nil {
		return err
	}
	defer end()
	resp, err := c.ListMachines(cctx, &gpumonv1.ListMachinesRequest{OnlineOnly: e.opts.onlyOnln})
	if err != nil {
		return e.rpcError("list machines", err)
	}
	out := LsJSON{Machines: []MachineJSON{}}
	for _, m := range resp.GetMachines() {
		out.Machines = append(out.Machines, machineJSON(m))
	}
	t := resp.GetTotals()
	out.Totals = TotalsJSON{Machines: t.GetMachines(), MachinesOnline: t.GetMachinesOnline(), MachinesOffline: t.GetMachinesOffline(),
		GPUs: t.GetGpus(), GPUsBusy: t.GetGpusBusy(), GPUsFree: t.GetGpusFree(), GPUsIdleHeld: t.GetGpusIdleHeld(),
		GPUsOffline: t.GetGpusOffline(), GPUMemoryUsed: t.GetGpuMemoryUsed(), GPUMemoryTotal: t.GetGpuMemoryTotal()}
	if e.common.json {
		return writeJSON(e.Out, out)
	}
	writeLs(e, out, time.Now())
	return nil
}

func writeLs(e *env, out LsJSON, now time.Time) {
	if len(out.Machines) == 0 {
		fmt.Fprintln(e.Out, "no machines yet: start gpumon-agent on a GPU machine (see README)")
		return
	}
	tb := &table{
		head:  []string{"HOST", "STATE", "GPUS", "GPU MEMORY", "HOT", "CPU", "MEM", "SEEN"},
		max:   []int{24, 0, 0, 0, 0, 0, 0, 0},
		right: []bool{false, false, true, true, true, true, true, true},
	}
	// Hubs that share the fleet: which one holds each machine.
	clustered := slices.ContainsFunc(out.Machines, func(m MachineJSON) bool { return m.Hub != "" })
	if clustered {
		tb.head, tb.max, tb.right = append(tb.head, "HUB"), append(tb.max, 16), append(tb.right, false)
	}
	for _, m := range out.Machines {
		state := "online"
		switch {
		case m.Reconnecting:
			state = "reconnecting"
		case !m.Online:
			state = "offline"
		}
		cells := []string{m.Host, state, fmt.Sprintf("%d/%d", m.GPUsBusy, m.GPUs),
			mib(float64(m.GPUMemoryUsed)) + "/" + mib(float64(m.GPUMemoryTotal)),
			optU32(m.MaxTemperature, "C"), pct(m.CPUPercent), pct(m.MemoryPercent), ago(m.LastSeen, now)}
		if clustered {
			cells = append(cells, m.Hub)
		}
		tb.add(cells...)
	}
	tb.write(e.Out, width(e.Out))
	t := out.Totals
	fmt.Fprintf(e.Out, "\n%d machines (%d online", t.Machines, t.MachinesOnline)
	if t.MachinesOffline > 0 {
		fmt.Fprintf(e.Out, ", %d offline with %d GPUs, not counted below", t.MachinesOffline, t.GPUsOffline)
	}
	fmt.Fprintf(e.Out, ")\nGPUs %d/%d busy, %d free, GPU memory %s/%s\n",
		t.GPUsBusy, t.GPUs, t.GPUsFree, mib(t.GPUMemoryUsed), mib(t.GPUMemoryTotal))
}
