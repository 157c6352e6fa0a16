package gpu

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"

	"github.com/gpumon/gpumon/agent/internal/collect"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

func collectOnce(t *testing.T, c *Collector) (*collect.Sample, error) {
	t.Helper()
	var s collect.Sample
	err := c.Collect(context.Background(), &s)
	return &s, err
}

func TestCollectHealthyGPU(t *testing.T) {
	c := New(fakeLib(fakeDevices(2)...), nil)
	s, err := collectOnce(t, c)
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	if s.DriverVersion != "550.54.15" || s.CUDAVersion != "12.4" || s.Simulated {
		t.Errorf("versions = %q %q simulated=%v", s.DriverVersion, s.CUDAVersion, s.Simulated)
	}
	if len(s.GPUs) != 2 {
		t.Fatalf("got %d GPUs, want 2", len(s.GPUs))
	}
	g := s.GPUs[1]
	checks := []struct {
		name      string
		got, want any
	}{
		{"id", g.Id, int32(1)},
		{"uuid", g.Uuid, "GPU-00000001-0000-0000-0000-000000000000"},
		{"name", g.Name, "NVIDIA H100 80GB HBM3"},
		{"memory", [3]uint32{g.MemoryUsed, g.MemoryTotal, g.GetMemoryFree()}, [3]uint32{1000, 81920, 80920}},
		{"temperature", g.GetTemperature(), uint32(45)},
		{"utilization", [2]uint32{g.GetUtilization(), g.GetMemoryUtilization()}, [2]uint32{87, 40}},
		{"power", [2]float64{g.GetPowerDraw(), g.GetPowerLimit()}, [2]float64{312.5, 700}},
		{"fan", g.GetFanSpeed(), uint32(55)},
		{"clocks", [2]uint32{g.GetSmClock(), g.GetMemoryClock()}, [2]uint32{1980, 2619}},
		{"pstate", g.PerformanceState != nil && g.GetPerformanceState() == 0, true},
		{"throttle", strings.Join(g.ThrottleReasons, ","), "sw_power_cap"},
		{"ecc", [2]uint32{g.GetEccErrorsCorrected(), g.GetEccErrorsUncorrected()}, [2]uint32{2, 0}},
		{"codec", [2]uint32{g.GetEncoderUtilization(), g.GetDecoderUtilization()}, [2]uint32{3, 9}},
		{"pcie", [2]uint32{g.GetPcieGeneration(), g.GetPcieWidth()}, [2]uint32{5, 16}},
		{"modes", [2]bool{g.GetPersistenceMode(), g.MigMode != nil && !g.GetMigMode()}, [2]bool{true, true}},
		{"error", g.Error, ""},
		{"processes on gpu", len(g.Processes), 0},
		{"pci bus id", g.PciBusId, "00000000:19:00.0"},
		{"memory temperature", g.GetMemoryTemperature(), uint32(58)},
		{"energy", g.GetEnergyConsumption(), 9.5e9},
		{"pcie throughput", [2]uint32{g.GetPcieTxThroughput(), g.GetPcieRxThroughput()}, [2]uint32{1200, 5400}},
		{"pcie replays", g.GetPcieReplayCounter(), uint32(1)},
		{"nvlink", g.GetNvlinkBandwidthTotal(), 7.25e6},
		{"remapped rows", g.GetRemappedRows().String(), (&gpumonv1.RemappedRows{Correctable: 1, Pending: true}).String()},
		{"no activity from one sample", g.Activity == nil, true},
	}
	for _, tc := range checks {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if len(s.GPUProcesses) != 2 {
		t.Fatalf("GPU processes = %+v, want 2", s.GPUProcesses)
	}
	p := s.GPUProcesses[1]
	if p.PID != 101 || p.GPU != 1 || p.UsedMemory != 990 || p.Type != TypeCompute || p.SMUtilization == nil || *p.SMUtilization != 80 {
		t.Errorf("process = %+v", p)
	}

	// The second collection compares two GPM samples: ratios, not percent.
	s, err = collectOnce(t, c)
	if err != nil {
		t.Fatal(err)
	}
	a := s.GPUs[1].GetActivity()
	got := [5]float64{a.GetGraphics(), a.GetSm(), a.GetSmOccupancy(), a.GetTensor(), a.GetDram()}
	if want := [5]float64{0.86, 0.7, 0.35, 0.42, 0.3}; a == nil || got != want {
		t.Errorf("activity = %v, want %v", a, want)
	}
}

// TestGPMSamplesFreed: the two GPM samples of every GPU are freed when the
// collector closes, and when the number of GPUs changes.
func TestGPMSamplesFreed(t *testing.T) {
	devs := fakeDevices(2)
	lib := fakeLib(devs...)
	var mu sync.Mutex
	var samples []*fakeSample
	lib.GpmSampleAllocFunc = func() (nvml.GpmSample, nvml.Return) {
		s := &fakeSample{}
		mu.Lock()
		samples = append(samples, s)
		mu.Unlock()
		return s, nvml.SUCCESS
	}
	n := 2
	lib.DeviceGetCountFunc = func() (int, nvml.Return) { return n, nvml.SUCCESS }
	c := New(lib, nil)
	for range 3 {
		if _, err := collectOnce(t, c); err != nil {
			t.Fatal(err)
		}
	}
	if len(samples) != 4 {
		t.Fatalf("%d samples allocated for 2 GPUs over 3 collections, want 4", len(samples))
	}
	n = 1 // a GPU fell off the bus
	if _, err := collectOnce(t, c); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if len(samples) != 6 {
		t.Fatalf("%d samples, want 6", len(samples))
	}
	for i, s := range samples {
		if !s.freed {
			t.Errorf("sample %d not freed", i)
		}
	}
}

func TestFieldValue(t *testing.T) {
	cases := []struct {
		typ  nvml.ValueType
		bits uint64
		want float64
		ok   bool
	}{
		{nvml.VALUE_TYPE_DOUBLE, math.Float64bits(61.5), 61.5, true},
		{nvml.VALUE_TYPE_UNSIGNED_INT, 58, 58, true},
		{nvml.VALUE_TYPE_UNSIGNED_LONG, 1 << 40, 1 << 40, true},
		{nvml.VALUE_TYPE_UNSIGNED_LONG_LONG, 9_500_000_000, 9.5e9, true},
		{nvml.VALUE_TYPE_SIGNED_LONG_LONG, uint64(1<<64 - 5), -5, true},
		{nvml.VALUE_TYPE_SIGNED_INT, 0xfffffffe, -2, true},
		{nvml.VALUE_TYPE_UNSIGNED_SHORT, 0x1_0007, 7, true},
		{nvml.VALUE_TYPE_COUNT, 1, 0, false},
	}
	for _, tc := range cases {
		var fv nvml.FieldValue
		fv.ValueType = uint32(tc.typ)
		binary.NativeEndian.PutUint64(fv.Value[:], tc.bits)
		if got, ok := fieldValue(fv); got != tc.want || ok != tc.ok {
			t.Errorf("type %d: %v %v, want %v %v", tc.typ, got, ok, tc.want, tc.ok)
		}
	}
}

// TestCollectUnsupportedMetrics: a card that does not support a metric
// reports it absent and everything else normally, and is not asked again.
func TestCollectUnsupportedMetrics(t *testing.T) {
	notSupported := func(d *mock.Device) {
		d.GetFanSpeedFunc = func() (uint32, nvml.Return) { return 0, nvml.ERROR_NOT_SUPPORTED }
		d.GetTemperatureFunc = func(nvml.TemperatureSensors) (uint32, nvml.Return) { return 0, nvml.ERROR_NOT_SUPPORTED }
		d.GetTotalEccErrorsFunc = func(nvml.MemoryErrorType, nvml.EccCounterType) (uint64, nvml.Return) {
			return 0, nvml.ERROR_NOT_SUPPORTED
		}
		d.GetMigModeFunc = func() (int, int, nvml.Return) { return 0, 0, nvml.ERROR_NOT_SUPPORTED }
		d.GetProcessUtilizationFunc = func(uint64) ([]nvml.ProcessUtilizationSample, nvml.Return) {
			return nil, nvml.ERROR_NOT_SUPPORTED
		}
		// A GeForce card: no memory sensor, NVLink or row remapping, no GPM.
		d.GetFieldValuesFunc = func(values []nvml.FieldValue) nvml.Return {
			for i := range values {
				a := fieldAnswers[values[i].FieldId]
				if values[i].FieldId != nvml.FI_DEV_TOTAL_ENERGY_CONSUMPTION {
					a.ret = nvml.ERROR_NOT_SUPPORTED
				}
				fillField(&values[i], a)
			}
			return nvml.SUCCESS
		}
		d.GpmQueryDeviceSupportFunc = func() (nvml.GpmSupport, nvml.Return) { return nvml.GpmSupport{}, nvml.SUCCESS }
		d.GetPcieThroughputFunc = func(nvml.PcieUtilCounter) (uint32, nvml.Return) { return 0, nvml.ERROR_NOT_SUPPORTED }
	}
	failing := func(d *mock.Device) {
		d.GetPowerUsageFunc = func() (uint32, nvml.Return) { return 0, nvml.ERROR_UNKNOWN }
		d.GetCurrPcieLinkGenerationFunc = func() (int, nvml.Return) { return 0, nvml.ERROR_NO_PERMISSION }
		d.GetFieldValuesFunc = func([]nvml.FieldValue) nvml.Return { return nvml.ERROR_UNKNOWN }
	}
	cases := []struct {
		name    string
		breakIt func(*mock.Device)
		absent  func(*gpumonv1.Gpu) bool
	}{
		{"not supported", notSupported, func(g *gpumonv1.Gpu) bool {
			return g.FanSpeed == nil && g.Temperature == nil && g.EccErrorsCorrected == nil &&
				g.EccErrorsUncorrected == nil && g.MigMode == nil && g.MemoryTemperature == nil &&
				g.NvlinkBandwidthTotal == nil && g.RemappedRows == nil && g.Activity == nil &&
				g.PcieReplayCounter == nil && g.PcieTxThroughput == nil && g.PcieRxThroughput == nil &&
				g.GetEnergyConsumption() == 9.5e9
		}},
		{"other errors", failing, func(g *gpumonv1.Gpu) bool {
			return g.PowerDraw == nil && g.PcieGeneration == nil && g.MemoryTemperature == nil &&
				g.EnergyConsumption == nil && g.RemappedRows == nil
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dev := fakeDevice(0)
			tc.breakIt(dev)
			c := New(fakeLib(dev), nil)
			for range 2 {
				s, err := collectOnce(t, c)
				if err != nil {
					t.Fatalf("Collect: %v", err)
				}
				g := s.GPUs[0]
				if !tc.absent(g) {
					t.Errorf("failed metrics present: %v", g)
				}
				if g.Error != "" || g.Utilization == nil || g.PowerLimit == nil || g.SmClock == nil || g.PcieWidth == nil {
					t.Errorf("healthy metrics missing: %v", g)
				}
				if len(s.GPUProcesses) != 1 {
					t.Errorf("processes = %+v", s.GPUProcesses)
				}
			}
		})
	}
	t.Run("asked once", func(t *testing.T) {
		dev := fakeDevice(0)
		notSupported(dev)
		c := New(fakeLib(dev), nil)
		for range 3 {
			if _, err := collectOnce(t, c); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(dev.GetFanSpeedCalls()); n != 1 {
			t.Errorf("fan speed asked %d times, want 1", n)
		}
		if n := len(dev.GpmQueryDeviceSupportCalls()); n != 1 {
			t.Errorf("GPM support asked %d times, want 1", n)
		}
		for i, call := range dev.GetFieldValuesCalls() {
			// Energy is read every time; the unsupported fields only at first.
			if want := map[bool]int{true: 9, false: 1}[i == 0]; len(call.FieldValues) != want {
				t.Errorf("field call %d asked %d fields, want %d", i, len(call.FieldValues), want)
			}
		}
		if n := len(dev.GetUtilizationRatesCalls()); n != 3 {
			t.Errorf("utilization asked %d times, want 3", n)
		}
		for range reprobeEvery {
			if _, err := collectOnce(t, c); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(dev.GetFanSpeedCalls()); n != 2 {
			t.Errorf("fan speed asked %d times after a re-probe, want 2", n)
		}
	})
}

// TestCollectBrokenGPU: one broken GPU is listed with its error; the others
// are reported normally and Collect returns an error with the result.
func TestCollectBrokenGPU(t *testing.T) {
	cases := []struct {
		name    string
		lib     func(*mock.Interface, []*mock.Device)
		wantErr string
	}{
		{"gpu lost", func(_ *mock.Interface, d []*mock.Device) {
			d[1].GetUUIDFunc = func() (string, nvml.Return) { return "", nvml.ERROR_GPU_IS_LOST }
			d[1].GetNameFunc = func() (string, nvml.Return) { return "", nvml.ERROR_GPU_IS_LOST }
			d[1].GetMemoryInfoFunc = func() (nvml.Memory, nvml.Return) { return nvml.Memory{}, nvml.ERROR_GPU_IS_LOST }
		}, "read uuid of GPU 1: ERROR_GPU_IS_LOST"},
		{"unknown error on memory", func(_ *mock.Interface, d []*mock.Device) {
			d[1].GetMemoryInfoFunc = func() (nvml.Memory, nvml.Return) { return nvml.Memory{}, nvml.ERROR_UNKNOWN }
		}, "read memory info of GPU 1: ERROR_UNKNOWN"},
		{"no handle", func(l *mock.Interface, d []*mock.Device) {
			l.DeviceGetHandleByIndexFunc = func(i int) (nvml.Device, nvml.Return) {
				if i == 1 {
					return nil, nvml.ERROR_UNKNOWN
				}
				return d[i], nvml.SUCCESS
			}
		}, "get handle of GPU 1: ERROR_UNKNOWN"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			devs := fakeDevices(3)
			lib := fakeLib(devs...)
			tc.lib(lib, devs)
			s, err := collectOnce(t, New(lib, nil))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
			}
			if errors.Is(err, collect.ErrUnavailable) {
				t.Errorf("a broken GPU is not an unavailable source: %v", err)
			}
			if len(s.GPUs) != 3 {
				t.Fatalf("got %d GPUs, want 3", len(s.GPUs))
			}
			if g := s.GPUs[1]; !strings.Contains(g.Error, tc.wantErr) || g.Id != 1 || g.Temperature != nil {
				t.Errorf("broken GPU = %v", g)
			}
			for _, i := range []int{0, 2} {
				if g := s.GPUs[i]; g.Error != "" || g.Uuid == "" || g.Utilization == nil {
					t.Errorf("healthy GPU %d = %v", i, g)
				}
			}
			if len(s.GPUProcesses) != 2 || s.GPUProcesses[0].GPU != 0 || s.GPUProcesses[1].GPU != 2 {
				t.Errorf("processes = %+v", s.GPUProcesses)
			}
		})
	}
}

func TestCollectContextCancelled(t *testing.T) {
	t.Run("before", func(t *testing.T) {
		devs := fakeDevices(2)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var s collect.Sample
		err := New(fakeLib(devs...), nil).Collect(ctx, &s)
		if !errors.Is(err, context.Canceled) || len(s.GPUs) != 0 {
			t.Errorf("err = %v, GPUs = %d", err, len(s.GPUs))
		}
		if n := len(devs[0].GetUUIDCalls()); n != 0 {
			t.Errorf("GPU 0 read %d times after cancel", n)
		}
	})
	t.Run("during the reads", func(t *testing.T) {
		devs := fakeDevices(3)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		devs[0].GetNameFunc = func() (string, nvml.Return) { cancel(); return "slow", nvml.SUCCESS }
		var s collect.Sample
		err := New(fakeLib(devs...), nil).Collect(ctx, &s)
		if !errors.Is(err, context.Canceled) || len(s.GPUs) != 3 {
			t.Errorf("err = %v, GPUs = %d, want the GPUs read (all three, at once) and the cancellation", err, len(s.GPUs))
		}
	})
}

// TestCollectComputeAndGraphics: a process in both NVML lists is one
// "compute+graphics" process with the larger memory figure.
func TestCollectComputeAndGraphics(t *testing.T) {
	dev := fakeDevice(0)
	dev.GetGraphicsRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) {
		return []nvml.ProcessInfo{{Pid: 100, UsedGpuMemory: 2000 * mib}, {Pid: 7, UsedGpuMemory: 50 * mib}}, nvml.SUCCESS
	}
	s, err := collectOnce(t, New(fakeLib(dev), nil))
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%v", s.GPUProcesses)
	want := fmt.Sprintf("%v", []collect.GPUProcess{
		{PID: 7, UsedMemory: 50, Type: TypeGraphics, SMUtilization: s.GPUProcesses[0].SMUtilization},
		{PID: 100, UsedMemory: 2000, Type: TypeComputeGraphics, SMUtilization: s.GPUProcesses[1].SMUtilization},
	})
	if got != want || *s.GPUProcesses[0].SMUtilization != 0 || *s.GPUProcesses[1].SMUtilization != 80 {
		t.Errorf("processes = %s, want %s", got, want)
	}
}

// TestCloseDuringCollect: Close does not wait for a collection stuck in the
// driver.
func TestCloseDuringCollect(t *testing.T) {
	dev := fakeDevice(0)
	entered, release := make(chan struct{}), make(chan struct{})
	dev.GetNameFunc = func() (string, nvml.Return) {
		close(entered)
		<-release
		return "stuck", nvml.SUCCESS
	}
	lib := fakeLib(dev)
	c := New(lib, nil)
	done := make(chan error)
	go func() {
		var s collect.Sample
		done <- c.Collect(context.Background(), &s)
	}()
	<-entered
	if err := c.Close(); err == nil {
		t.Error("Close during a stuck collection returned nil")
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("Collect: %v", err)
	}
	if err := c.Close(); err != nil || len(lib.ShutdownCalls()) != 1 {
		t.Errorf("Close afterwards: %v, %d shutdowns", err, len(lib.ShutdownCalls()))
	}
}
