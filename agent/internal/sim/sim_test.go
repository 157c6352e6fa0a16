package sim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"
)

// t0 is a fixed start for injected clocks.
var t0 = time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)

// clock is an injectable clock that tests move by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newMachine(t *testing.T, profile string, opts ...Option) (*Machine, *clock) {
	t.Helper()
	c := &clock{t: t0}
	opts = append([]Option{WithClock(c.now), WithFakePIDs()}, opts...)
	m, err := New(profile, opts...)
	if err != nil {
		t.Fatalf("New(%q): %v", profile, err)
	}
	return m, c
}

func TestNew(t *testing.T) {
	cases := []struct {
		profile string
		gpus    int
		name    string
		memMiB  uint64
	}{
		{"dgxa100", 8, "NVIDIA A100-SXM4-80GB", 81920},
		{"dgxb200", 8, "NVIDIA B200 180GB HBM3e", 184320},
		{"dgxh100", 8, "NVIDIA H100 80GB HBM3", 81920},
		{"dgxh200", 8, "NVIDIA H200 141GB HBM3e", 144384},
		{"rtx4090x2", 2, "NVIDIA GeForce RTX 4090", 24564},
		{"rtx4090x4", 4, "NVIDIA GeForce RTX 4090", 24564},
	}
	if got, want := strings.Join(Profiles(), " "), "dgxa100 dgxb200 dgxh100 dgxh200 rtx4090x2 rtx4090x4"; got != want {
		t.Errorf("Profiles() = %s, want %s", got, want)
	}
	for _, tc := range cases {
		t.Run(tc.profile, func(t *testing.T) {
			m, _ := newMachine(t, tc.profile)
			if ret := m.Init(); ret != nvml.SUCCESS {
				t.Fatalf("Init: %v", ret)
			}
			if !m.Simulated() || m.Profile() != tc.profile || Describe(tc.profile) == "" {
				t.Errorf("Simulated/Profile/Describe wrong")
			}
			n, _ := m.DeviceGetCount()
			if n != tc.gpus {
				t.Fatalf("%d GPUs, want %d", n, tc.gpus)
			}
			uuids := map[string]bool{}
			for i := range n {
				d, ret := m.DeviceGetHandleByIndex(i)
				if ret != nvml.SUCCESS {
					t.Fatalf("handle %d: %v", i, ret)
				}
				name, _ := d.GetName()
				mem, _ := d.GetMemoryInfo()
				uuid, _ := d.GetUUID()
				if name != tc.name || mem.Total != tc.memMiB<<20 || uuids[uuid] {
					t.Errorf("GPU %d: %q %d MiB uuid %s", i, name, mem.Total>>20, uuid)
				}
				uuids[uuid] = true
			}
		})
	}
}

func TestUnknownProfile(t *testing.T) {
	_, err := New("dgx-h100")
	if err == nil {
		t.Fatal("no error for an unknown profile")
	}
	for _, p := range Profiles() {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not list %s", err, p)
		}
	}
}

// reading is what one GPU answers at one moment.
type reading struct {
	util, memUtil, temp, power, sm, mem uint32
	used, total                         uint64
	compute, graphics                   []nvml.ProcessInfo
}

func read(t *testing.T, m *Machine, i int) reading {
	t.Helper()
	d, _ := m.DeviceGetHandleByIndex(i)
	var r reading
	u, _ := d.GetUtilizationRates()
	r.util, r.memUtil = u.Gpu, u.Memory
	r.temp, _ = d.GetTemperature(nvml.TEMPERATURE_GPU)
	p, _ := d.GetPowerUsage()
	r.power = p / 1000
	r.sm, _ = d.GetClockInfo(nvml.CLOCK_SM)
	r.mem, _ = d.GetClockInfo(nvml.CLOCK_MEM)
	mi, _ := d.GetMemoryInfo()
	r.used, r.total = mi.Used>>20, mi.Total>>20
	r.compute, _ = d.GetComputeRunningProcesses()
	r.graphics, _ = d.GetGraphicsRunningProcesses()
	return r
}

func TestDeterministic(t *testing.T) {
	a, ca := newMachine(t, "dgxh100", WithSeed(7))
	b, cb := newMachine(t, "dgxh100", WithSeed(7))
	c, cc := newMachine(t, "dgxh100", WithSeed(8))
	differs := false
	for step := range 60 {
		at := t0.Add(time.Duration(step) * 37 * time.Second)
		ca.t, cb.t, cc.t = at, at, at
		for i := range 8 {
			ra, rb, rc := read(t, a, i), read(t, b, i), read(t, c, i)
			if ra.util != rb.util || ra.temp != rb.temp || ra.used != rb.used || ra.power != rb.power {
				t.Fatalf("same seed, GPU %d at %s: %+v != %+v", i, at, ra, rb)
			}
			differs = differs || ra.util != rc.util || ra.used != rc.used
		}
	}
	if !differs {
		t.Error("seeds 7 and 8 gave the same figures")
	}
	ua, _ := a.Devices[0].GetUUID()
	uc, _ := c.Devices[0].GetUUID()
	if ua == uc {
		t.Errorf("seeds 7 and 8 gave the same UUID %s", ua)
	}
}

// TestNoCallRecording: reading a simulated GPU leaves nothing behind, so a
// long-running simulated agent does not grow.
func TestNoCallRecording(t *testing.T) {
	m, _ := newMachine(t, "dgxh100")
	for range 100 {
		_ = read(t, m, 3)
		d, _ := m.DeviceGetHandleByIndex(3)
		_, _ = d.GetTotalEccErrors(nvml.MEMORY_ERROR_TYPE_CORRECTED, nvml.VOLATILE_ECC)
		_, _ = d.GetProcessUtilization(0)
	}
	dev := m.Devices[3].(*server.Device)
	if n := len(dev.GetTemperatureCalls()) + len(dev.GetClockInfoCalls()) +
		len(dev.GetTotalEccErrorsCalls()) + len(dev.GetProcessUtilizationCalls()) +
		len(m.DeviceGetHandleByIndexCalls()); n != 0 {
		t.Errorf("%d calls recorded", n)
	}
}

// TestLabReadsAsTheMachine: the load generator's Lab reports what the NVML
// library of a Machine with the same seed and clock reports.
func TestLabReadsAsTheMachine(t *testing.T) {
	for _, profile := range []string{"dgxa100", "rtx4090x4"} {
		m, clk := newMachine(t, profile, WithSeed(11))
		lab, err := NewLab(profile, WithClock(clk.now), WithFakePIDs(), WithSeed(11))
		if err != nil {
			t.Fatal(err)
		}
		for at := t0; at.Before(t0.Add(2 * time.Hour)); at = at.Add(7 * time.Minute) {
			clk.t = at
			for i, info := range lab.GPUs() {
				r, l := read(t, m, i), lab.Read(i, at)
				d, _ := m.DeviceGetHandleByIndex(i)
				name, _ := d.GetName()
				uuid, _ := d.GetUUID()
				_, utilRet := d.GetUtilizationRates()
				var procs []uint32
				for _, p := range append(r.compute, r.graphics...) {
					procs = append(procs, p.Pid)
				}
				var labProcs []uint32
				for _, p := range l.Processes {
					labProcs = append(labProcs, p.PID)
				}
				if name != info.Name || uuid != info.UUID || r.total != info.MemoryMiB || r.used != l.MemoryMiB ||
					r.temp != l.Temperature || (utilRet == nvml.SUCCESS) != (l.Utilization != nil) ||
					l.Utilization != nil && *l.Utilization != r.util || fmt.Sprint(procs) != fmt.Sprint(labProcs) {
					t.Fatalf("%s GPU %d at %s: machine %+v %s %s, lab %+v %+v", profile, i, at, r, name, uuid, l, info)
				}
			}
		}
	}
}
