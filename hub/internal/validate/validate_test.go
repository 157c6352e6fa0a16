package validate

import (
	"errors"
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
