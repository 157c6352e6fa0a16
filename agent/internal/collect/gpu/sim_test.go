package gpu_test

import (
	"context"
	"testing"
	"time"

	"github.com/gpumon/gpumon/agent/internal/collect"
	"github.com/gpumon/gpumon/agent/internal/collect/gpu"
	"github.com/gpumon/gpumon/agent/internal/sim"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

var t0 = time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)

func simCollector(tb testing.TB, profile string, now func() time.Time) *gpu.Collector {
	tb.Helper()
	lib, err := sim.New(profile, sim.WithClock(now), sim.WithFakePIDs())
	if err != nil {
		tb.Fatal(err)
	}
	c := gpu.New(lib, nil)
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// TestCollectSim reads every simulated machine through the collector, over
// an hour of injected time, and checks the report a user would see.
func TestCollectSim(t *testing.T) {
	cases := []struct {
		profile       string
		gpus          int
		consumer, gpm bool
	}{
		{"dgxa100", 8, false, false},
		{"dgxb200", 8, false, true},
		{"dgxh100", 8, false, true},
		{"dgxh200", 8, false, true},
		{"rtx4090x4", 4, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.profile, func(t *testing.T) {
			now := t0
			c := simCollector(t, tc.profile, func() time.Time { return now })
			sawProcs := false
			energy, buses := map[int32]float64{}, map[string]bool{}
			for ; now.Before(t0.Add(time.Hour)); now = now.Add(time.Minute) {
				var s collect.Sample
				if err := c.Collect(context.Background(), &s); err != nil {
					t.Fatalf("Collect: %v", err)
				}
				if !s.Simulated || s.CUDAVersion != "12.4" && s.CUDAVersion != "12.6" || s.DriverVersion == "" {
					t.Fatalf("versions %q %q simulated %v", s.DriverVersion, s.CUDAVersion, s.Simulated)
				}
				if len(s.GPUs) != tc.gpus {
					t.Fatalf("%d GPUs, want %d", len(s.GPUs), tc.gpus)
				}
				for _, g := range s.GPUs {
					checkSimGPU(t, g, tc.consumer)
					checkSimCounters(t, g, tc.consumer, tc.gpm && now.After(t0))
					if e := g.GetEnergyConsumption(); e <= energy[g.Id] {
						t.Errorf("GPU %d: energy %v after %v", g.Id, e, energy[g.Id])
					}
					energy[g.Id] = g.GetEnergyConsumption()
					buses[g.GetPciBusId()] = true
				}
				for _, p := range s.GPUProcesses {
					sawProcs = true
					if p.PID < sim.FakePIDBase {
						t.Errorf("process %d is not a simulated job's", p.PID)
					}
					if (p.SMUtilization == nil) != (tc.profile == "dgxa100" && p.GPU == 7) || p.Type == "" {
						t.Errorf("process %+v lacks SM utilisation or type", p)
					}
				}
			}
			if !sawProcs {
				t.Error("no simulated job's process in an hour")
			}
			if len(buses) != tc.gpus {
				t.Errorf("PCI bus ids %v, want one per GPU", buses)
			}
		})
	}
}

func checkSimGPU(t *testing.T, g *gpumonv1.Gpu, consumer bool) {
	t.Helper()
	mig := g.GetMigMode()
	present := g.Temperature != nil && (g.Utilization != nil) != mig && (g.MemoryUtilization != nil) != mig &&
		g.PowerDraw != nil && g.PowerLimit != nil && g.SmClock != nil && g.MemoryClock != nil &&
		g.PerformanceState != nil && g.EncoderUtilization != nil && g.DecoderUtilization != nil &&
		g.PcieGeneration != nil && g.PcieWidth != nil && g.PersistenceMode != nil && g.MemoryFree != nil
	if !present || g.Error != "" || g.Uuid == "" || g.Name == "" || g.MemoryTotal == 0 {
		t.Fatalf("GPU %d incomplete: %v", g.Id, g)
	}
	if consumer != (g.FanSpeed != nil) {
		t.Errorf("GPU %d: fan speed %v on consumer=%v", g.Id, g.FanSpeed, consumer)
	}
	if mig != (g.Id == 7 && g.Name == "NVIDIA A100-SXM4-80GB") {
		t.Errorf("GPU %d (%s): MIG mode %v", g.Id, g.Name, mig)
	}
	if consumer != (g.EccErrorsCorrected == nil && g.MigMode == nil) {
		t.Errorf("GPU %d: ECC %v MIG %v on consumer=%v", g.Id, g.EccErrorsCorrected, g.MigMode, consumer)
	}
	if g.MemoryUsed+g.GetMemoryFree() != g.MemoryTotal || g.GetUtilization() > 100 || g.GetPowerDraw() > g.GetPowerLimit() {
		t.Errorf("GPU %d figures inconsistent: %v", g.Id, g)
	}
}

// checkSimCounters: the figures dcgm-exporter users expect are there where
// the simulated card has them, absent (not zero) where it does not.
func checkSimCounters(t *testing.T, g *gpumonv1.Gpu, consumer, activity bool) {
	t.Helper()
	if g.PciBusId == "" || g.EnergyConsumption == nil || g.PcieTxThroughput == nil || g.PcieRxThroughput == nil || g.PcieReplayCounter == nil {
		t.Errorf("GPU %d lacks bus id, energy or PCIe figures: %v", g.Id, g)
	}
	dc := !consumer
	if (g.MemoryTemperature != nil) != dc || (g.NvlinkBandwidthTotal != nil) != dc || (g.RemappedRows != nil) != dc {
		t.Errorf("GPU %d (consumer=%v): memory temperature %v, NVLink %v, remapped rows %v", g.Id, consumer,
			g.MemoryTemperature, g.NvlinkBandwidthTotal, g.RemappedRows)
	}
	if dc && (g.GetMemoryTemperature() < g.GetTemperature() || g.GetMemoryTemperature() > 110) {
		t.Errorf("GPU %d: memory at %d °C, core at %d °C", g.Id, g.GetMemoryTemperature(), g.GetTemperature())
	}
	a := g.GetActivity()
	if (a != nil) != activity {
		t.Fatalf("GPU %d: activity %v, want present=%v", g.Id, a, activity)
	}
	for _, v := range []float64{a.GetGraphics(), a.GetSm(), a.GetSmOccupancy(), a.GetTensor(), a.GetDram()} {
		if v < 0 || v > 1 {
			t.Errorf("GPU %d: activity %v out of 0..1", g.Id, a)
		}
	}
	if a != nil && (a.GetTensor() > a.GetSm() || a.GetSm() > a.GetGraphics()+0.05) {
		t.Errorf("GPU %d: tensor %v > SM %v or SM > graphics %v", g.Id, a.GetTensor(), a.GetSm(), a.GetGraphics())
	}
}

// BenchmarkCollectSim8 measures one collection of eight simulated GPUs.
func BenchmarkCollectSim8(b *testing.B) {
	c := simCollector(b, "dgxh100", time.Now)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		var s collect.Sample
		if err := c.Collect(ctx, &s); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSimulatedXID: a simulated machine's Xid reaches the collector's
// report of that GPU only, as a real driver's event would.
func TestSimulatedXID(t *testing.T) {
	lib, err := sim.New("dgxh100", sim.WithFakePIDs())
	if err != nil {
		t.Fatal(err)
	}
	c := gpu.New(lib, nil, gpu.WithXIDEvents())
	t.Cleanup(func() { _ = c.Close() })
	read := func() []*gpumonv1.Gpu {
		var s collect.Sample
		if err := c.Collect(context.Background(), &s); err != nil {
			t.Fatal(err)
		}
		return s.GPUs
	}
	if gs := read(); len(gs) != 8 || gs[5].XidErrors == nil || gs[5].GetXidErrors() != 0 {
		t.Fatalf("before: %d GPUs, GPU 5 xid_errors %v; want 8 watched GPUs at 0", len(gs), gs[5].XidErrors)
	}
	lib.InjectXID(5, 79)
	deadline := time.Now().Add(time.Minute)
	gs := read()
	for ; gs[5].GetXidErrors() == 0; gs = read() {
		if time.Now().After(deadline) {
			t.Fatal("the injected Xid never reached the report")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i, g := range gs {
		want := uint32(0)
		if i == 5 {
			want = 1
		}
		if g.GetXidErrors() != want {
			t.Errorf("GPU %d: xid_errors %d, want %d", i, g.GetXidErrors(), want)
		}
	}
	if gs[5].GetLastXid() != 79 || gs[5].LastXidTime == nil {
		t.Errorf("GPU 5: last Xid %d at %v, want 79 with its time", gs[5].GetLastXid(), gs[5].LastXidTime)
	}
}
