package validate

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

func TestHostname(t *testing.T) {
	good := []string{"gpu-01", "node_3.lab.example", "123", "a"}
	for _, h := range good {
		if err := Hostname(h); err != nil {
			t.Errorf("Hostname(%q) = %v, want ok", h, err)
		}
	}
	bad := []string{"", " ", "a b", "-x", ".x", "a/b", "<script>", "主机", strings.Repeat("a", MaxHostnameLen+1), "a\x00b"}
	for _, h := range bad {
		if err := Hostname(h); !errors.Is(err, ErrHostname) {
			t.Errorf("Hostname(%q) = %v, want ErrHostname", h, err)
		}
	}
}

func TestReportLimits(t *testing.T) {
	procs := make([]*gpumonv1.Process, MaxProcesses+5)
	for i := range procs {
		procs[i] = &gpumonv1.Process{Pid: int32(i), Cmdline: strings.Repeat("é", MaxCmdlineLen), Name: "bad\xff"}
	}
	gpus := make([]*gpumonv1.Gpu, MaxGPUs+1)
	for i := range gpus {
		gpus[i] = &gpumonv1.Gpu{Id: int32(i)}
	}
	r := &gpumonv1.Report{
		Hostname:   "h",
		GpuData:    gpus,
		SystemInfo: &gpumonv1.SystemInfo{Processes: procs, IpAddress: strings.Repeat("1", MaxStringLen*2)},
	}
	if err := Report(r); err != nil {
		t.Fatal(err)
	}
	if n := len(r.GetSystemInfo().GetProcesses()); n != MaxProcesses {
		t.Errorf("processes capped to %d, want %d", n, MaxProcesses)
	}
	if n := len(r.GetGpuData()); n != MaxGPUs {
		t.Errorf("GPUs capped to %d, want %d", n, MaxGPUs)
	}
	p := r.GetSystemInfo().GetProcesses()[0]
	if len(p.Cmdline) > MaxCmdlineLen || !utf8.ValidString(p.Cmdline) {
		t.Errorf("cmdline not cut on a rune boundary: %d bytes, valid=%v", len(p.Cmdline), utf8.ValidString(p.Cmdline))
	}
	if p.Name != "bad\uFFFD" {
		t.Errorf("invalid UTF-8 not repaired: %q", p.Name)
	}
	if n := len(r.GetSystemInfo().GetIpAddress()); n != MaxStringLen {
		t.Errorf("ip_address cut to %d, want %d", n, MaxStringLen)
	}
}

// TestInventoryLimits: the facts an agent sends once per stream are held to
// the limits of a report's, since the hub fills them into every report.
func TestInventoryLimits(t *testing.T) {
	gpus := make([]*gpumonv1.GpuInfo, MaxGPUs+3)
	for i := range gpus {
		gpus[i] = &gpumonv1.GpuInfo{Id: int32(i), Name: strings.Repeat("é", MaxStringLen), PciBusId: "0000\xff" + strings.Repeat("0", 4*MaxStringLen)}
	}
	inv := &gpumonv1.Inventory{Gpus: gpus, DriverVersion: strings.Repeat("5", 10*MaxStringLen), CpuModel: "x\xffy"}
	Inventory(inv)
	Inventory(nil)
	g := inv.GetGpus()[0]
	switch {
	case len(inv.GetGpus()) != MaxGPUs:
		t.Errorf("GPUs capped to %d, want %d", len(inv.GetGpus()), MaxGPUs)
	case len(g.Name) > MaxStringLen || !utf8.ValidString(g.Name):
		t.Errorf("GPU name: %d bytes, valid UTF-8 %v", len(g.Name), utf8.ValidString(g.Name))
	case len(g.PciBusId) != MaxStringLen || !strings.HasPrefix(g.PciBusId, "0000\uFFFD"):
		t.Errorf("bus id: %d bytes, %.10q", len(g.PciBusId), g.PciBusId)
	case len(inv.DriverVersion) != MaxStringLen || inv.CpuModel != "x\uFFFDy":
		t.Errorf("driver %d bytes, cpu model %q", len(inv.DriverVersion), inv.CpuModel)
	}
}

func TestReportRefusesBadHostname(t *testing.T) {
	for _, h := range []string{"", "a b"} {
		if err := Report(&gpumonv1.Report{Hostname: h}); !errors.Is(err, ErrHostname) {
			t.Errorf("Report(hostname %q) = %v", h, err)
		}
	}
}

// TestListCaps: every list a report holds is capped at its limit, one past
// the limit included, so a machine cannot make the hub keep (or the page
// draw) an unbounded list.
func TestListCaps(t *testing.T) {
	tests := []struct {
		name  string
		limit int
		fill  func(r *gpumonv1.Report, n int)
		count func(r *gpumonv1.Report) int
	}{
		{"processes of one GPU", MaxGPUProcesses,
			func(r *gpumonv1.Report, n int) { r.GpuData[0].Processes = make([]*gpumonv1.Process, n) },
			func(r *gpumonv1.Report) int { return len(r.GpuData[0].Processes) }},
		{"throttle reasons of one GPU", MaxThrottleNames,
			func(r *gpumonv1.Report, n int) { r.GpuData[0].ThrottleReasons = make([]string, n) },
			func(r *gpumonv1.Report) int { return len(r.GpuData[0].ThrottleReasons) }},
		{"containers", MaxContainers,
			func(r *gpumonv1.Report, n int) { r.SystemInfo.DockerContainers = make([]*gpumonv1.DockerContainer, n) },
			func(r *gpumonv1.Report) int { return len(r.SystemInfo.DockerContainers) }},
		{"GPU pids of one container", MaxGPUProcesses,
			func(r *gpumonv1.Report, n int) {
				r.SystemInfo.DockerContainers = []*gpumonv1.DockerContainer{{GpuPids: make([]int32, n)}}
			},
			func(r *gpumonv1.Report) int { return len(r.SystemInfo.DockerContainers[0].GpuPids) }},
		{"screen sessions", MaxSessions,
			func(r *gpumonv1.Report, n int) { r.SystemInfo.ScreenSessions = make([]*gpumonv1.TerminalSession, n) },
			func(r *gpumonv1.Report) int { return len(r.SystemInfo.ScreenSessions) }},
		{"tmux sessions", MaxSessions,
			func(r *gpumonv1.Report, n int) { r.SystemInfo.TmuxSessions = make([]*gpumonv1.TerminalSession, n) },
			func(r *gpumonv1.Report) int { return len(r.SystemInfo.TmuxSessions) }},
		{"disks", MaxDisks,
			func(r *gpumonv1.Report, n int) { r.SystemInfo.Disks = make([]*gpumonv1.Disk, n) },
			func(r *gpumonv1.Report) int { return len(r.SystemInfo.Disks) }},
		{"collectors", MaxCollectors,
			func(r *gpumonv1.Report, n int) { r.Collectors = make([]*gpumonv1.CollectorStatus, n) },
			func(r *gpumonv1.Report) int { return len(r.Collectors) }},
		{"GPU ids of one process", MaxGPUs,
			func(r *gpumonv1.Report, n int) {
				r.SystemInfo.Processes = []*gpumonv1.Process{{GpuIds: make([]int32, n)}}
			},
			func(r *gpumonv1.Report) int { return len(r.SystemInfo.Processes[0].GpuIds) }},
	}
	for _, tt := range tests {
		for _, n := range []int{tt.limit, tt.limit + 1, 10 * tt.limit} {
			t.Run(fmt.Sprintf("%s/%d", tt.name, n), func(t *testing.T) {
				r := &gpumonv1.Report{Hostname: "h", GpuData: []*gpumonv1.Gpu{{}}, SystemInfo: &gpumonv1.SystemInfo{}}
				tt.fill(r, n)
				if err := Report(fillNil(r)); err != nil {
					t.Fatal(err)
				}
				if got := tt.count(r); got != tt.limit {
					t.Errorf("%d given: %d kept, want %d", n, got, tt.limit)
				}
			})
		}
	}
}

// fillNil replaces nil elements of the report's message lists with empty
// messages, as the wire would deliver them.
func fillNil(r *gpumonv1.Report) *gpumonv1.Report {
	for i := range r.GpuData[0].Processes {
		r.GpuData[0].Processes[i] = &gpumonv1.Process{}
	}
	s := r.SystemInfo
	for i := range s.DockerContainers {
		if s.DockerContainers[i] == nil {
			s.DockerContainers[i] = &gpumonv1.DockerContainer{}
		}
	}
	for _, l := range [][]*gpumonv1.TerminalSession{s.ScreenSessions, s.TmuxSessions} {
		for i := range l {
			l[i] = &gpumonv1.TerminalSession{}
		}
	}
	for i := range s.Disks {
		s.Disks[i] = &gpumonv1.Disk{}
	}
	for i := range r.Collectors {
		r.Collectors[i] = &gpumonv1.CollectorStatus{}
	}
	return r
}

// RebuiltReport cleans and caps a report as Report does, but leaves its
// processes as they are (cleaned as they arrived) and writes none of them:
// reports rebuilt from deltas share their unchanged processes.
func TestRebuiltReportLeavesProcesses(t *testing.T) {
	long := strings.Repeat("x", MaxCmdlineLen+10)
	mk := func() *gpumonv1.Report {
		p := &gpumonv1.Process{Pid: 1, Cmdline: long}
		return &gpumonv1.Report{Hostname: "h", AgentVersion: strings.Repeat("v", MaxStringLen+1),
			GpuData:    []*gpumonv1.Gpu{{Name: strings.Repeat("g", MaxStringLen+1), Processes: make([]*gpumonv1.Process, MaxGPUProcesses+1)}},
			SystemInfo: &gpumonv1.SystemInfo{Processes: append(make([]*gpumonv1.Process, MaxProcesses), p)}}
	}
	r := mk()
	if err := RebuiltReport(r); err != nil {
		t.Fatal(err)
	}
	if len(r.AgentVersion) != MaxStringLen || len(r.GpuData[0].Name) != MaxStringLen {
		t.Error("the report's own strings were not cut")
	}
	if len(r.GpuData[0].Processes) != MaxGPUProcesses || len(r.SystemInfo.Processes) != MaxProcesses {
		t.Error("process lists were not capped")
	}
	r = mk()
	r.SystemInfo.Processes = r.SystemInfo.Processes[MaxProcesses:]
	if err := RebuiltReport(r); err != nil {
		t.Fatal(err)
	}
	if r.SystemInfo.Processes[0].Cmdline != long {
		t.Error("a process was cleaned again")
	}
	Process(r.SystemInfo.Processes[0])
	if len(r.SystemInfo.Processes[0].Cmdline) != MaxCmdlineLen {
		t.Error("Process did not cut the command line")
	}
}
