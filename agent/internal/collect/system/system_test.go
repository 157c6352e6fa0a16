package system

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/shirou/gopsutil/v4/cpu"

	"github.com/gpumon/gpumon/agent/internal/collect"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseDefaultRoute(t *testing.T) {
	if got := parseDefaultRoute(fixture(t, "proc/net/route")); got != "enp5s0" {
		t.Errorf("parseDefaultRoute = %q, want enp5s0 (lowest metric)", got)
	}
	if got := parseDefaultRoute([]byte("Iface\tDestination\n")); got != "" {
		t.Errorf("no default route: %q", got)
	}
}

var testIfaces = []iface{
	{name: "lo", up: true, loopback: true, addrs: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}},
	{name: "docker0", up: true, addrs: []net.IP{net.ParseIP("172.17.0.1")}},
	{name: "wlan0", up: false, addrs: []net.IP{net.ParseIP("192.168.1.7")}},
	{name: "enp5s0", up: true, addrs: []net.IP{net.ParseIP("fe80::1"), net.ParseIP("2001:db8::5"), net.ParseIP("10.10.10.42")}},
}

func TestPickIP(t *testing.T) {
	tests := []struct {
		name, route string
		ifs         []iface
		want        string
	}{
		{"default route interface", "enp5s0", testIfaces, "10.10.10.42"},
		{"no route: first up non-loopback IPv4", "", testIfaces, "172.17.0.1"},
		{"route interface down", "wlan0", testIfaces, "172.17.0.1"},
		{"IPv6 only", "", []iface{testIfaces[0], {name: "eth0", up: true, addrs: []net.IP{net.ParseIP("fe80::2"), net.ParseIP("2001:db8::9")}}}, "2001:db8::9"},
		{"loopback only", "", testIfaces[:1], ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pickIP(tt.route, tt.ifs); got != tt.want {
				t.Errorf("pickIP = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseOSRelease(t *testing.T) {
	tests := map[string]string{
		"Ubuntu 22.04.4 LTS":             string(fixture(t, "etc/os-release")),
		"Debian GNU/Linux 12 (bookworm)": string(fixture(t, "etc/os-release.debian")),
		"Rocky Linux 9.3 (Blue Onyx)":    "NAME=\"Rocky Linux\"\nVERSION=\"9.3 (Blue Onyx)\"\n",
		"":                               "# nothing\n",
		"Arch Linux":                     "PRETTY_NAME='Arch Linux'\n",
	}
	for want, in := range tests {
		if got := parseOSRelease([]byte(in)); got != want {
			t.Errorf("parseOSRelease(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBusyPercent(t *testing.T) {
	a := cpu.TimesStat{User: 100, System: 50, Idle: 800, Iowait: 50}
	tests := []struct {
		name string
		b    cpu.TimesStat
		want float64
	}{
		{"quarter busy", cpu.TimesStat{User: 120, System: 55, Idle: 870, Iowait: 55}, 25},
		{"all idle", cpu.TimesStat{User: 100, System: 50, Idle: 900, Iowait: 50}, 0},
		{"all busy", cpu.TimesStat{User: 180, System: 70, Idle: 800, Iowait: 50}, 100},
		{"no time passed", a, 0},
	}
	for _, tt := range tests {
		if got := busyPercent(a, tt.b); got != tt.want {
			t.Errorf("%s: busyPercent = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCollectFixture(t *testing.T) {
	extra := t.TempDir()
	c := New(nil, WithProcRoot(filepath.Join("testdata", "proc")), WithEtcRoot(filepath.Join("testdata", "etc")),
		WithDisks(extra))
	c.ifaces = func() ([]iface, error) { return testIfaces, nil }
	var s collect.Sample
	if err := c.Collect(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	si := s.System
	if si.MemoryTotal != 24683620*1024 || si.MemoryAvailable <= 0 || si.MemoryUsed <= 0 || si.MemoryPercent <= 0 {
		t.Errorf("memory: total %v used %v available %v percent %v", si.MemoryTotal, si.MemoryUsed, si.MemoryAvailable, si.MemoryPercent)
	}
	if si.SwapTotal != 8388604*1024 || si.SwapUsed != (8388604-6291452)*1024 {
		t.Errorf("swap: total %v used %v", si.SwapTotal, si.SwapUsed)
	}
	if l := si.GetLoad(); l.GetLoad1() != 5.20 || l.GetLoad5() != 3.04 || l.GetLoad15() != 1.74 {
		t.Errorf("load = %v", l)
	}
	if si.Os != "Ubuntu 22.04.4 LTS" || si.CpuModel != "AMD EPYC" || si.Kernel == "" || si.CpuCores == 0 {
		t.Errorf("static facts: os %q model %q kernel %q cores %d", si.Os, si.CpuModel, si.Kernel, si.CpuCores)
	}
	if si.IpAddress != "10.10.10.42" {
		t.Errorf("ip = %q", si.IpAddress)
	}
	if si.CpuPercent != 0 {
		t.Errorf("cpu of an unchanging stat file = %v, want 0", si.CpuPercent)
	}
	if len(si.Disks) != 2 || si.Disks[0].Mountpoint != "/" || si.Disks[1].Mountpoint != extra ||
		si.DiskTotal <= 0 || si.DiskTotal != si.Disks[0].Total || si.Disks[1].Fstype == "" {
		t.Errorf("disks: %v, root total %v", si.Disks, si.DiskTotal)
	}
	if si.UptimeSeconds <= 0 {
		t.Errorf("uptime = %v", si.UptimeSeconds)
	}
}

func TestCollectMissingDisk(t *testing.T) {
	c := New(nil, WithDisks(filepath.Join(t.TempDir(), "absent")))
	var s collect.Sample
	err := c.Collect(context.Background(), &s)
	if err == nil || s.System == nil || s.System.MemoryTotal <= 0 || len(s.System.Disks) != 1 {
		t.Fatalf("Collect = %v; want an error for the missing disk and the rest filled", err)
	}
}

func TestCollectLive(t *testing.T) {
	c := New(nil)
	for range 2 {
		var s collect.Sample
		if err := c.Collect(context.Background(), &s); err != nil {
			t.Fatal(err)
		}
		si := s.System
		if si.CpuPercent < 0 || si.CpuPercent > 100 || si.MemoryTotal <= 0 || si.CpuCores == 0 || si.Kernel == "" {
			t.Errorf("live system = %v", si)
		}
		t.Logf("live system: %v", si)
	}
}

func BenchmarkCollectSystem(b *testing.B) {
	c := New(nil)
	var s collect.Sample
	if err := c.Collect(context.Background(), &s); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Collect(context.Background(), &s); err != nil {
			b.Fatal(err)
		}
	}
}

func TestEtcRootFollowsProcRoot(t *testing.T) {
	t.Setenv("HOST_ETC", "")
	t.Setenv("HOST_PROC", "/host/proc")
	if got := New(nil).etcRoot; got != "/host/etc" {
		t.Errorf("etc root = %q, want /host/etc", got)
	}
	t.Setenv("HOST_ETC", "/elsewhere/etc")
	if got := New(nil).etcRoot; got != "/elsewhere/etc" {
		t.Errorf("etc root = %q, want $HOST_ETC", got)
	}
}
