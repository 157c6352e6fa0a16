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

func TestReportRefusesBadHostname(t *testing.T) {
	for _, h := range []string{"", "a b"} {
		if err := Report(&gpumonv1.Report{Hostname: h}); !errors.Is(err, ErrHostname) {
			t.Errorf("Report(hostname %q) = %v", h, err)
		}
	}
}
