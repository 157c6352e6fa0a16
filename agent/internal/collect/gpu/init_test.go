package gpu

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"

	"github.com/gpumon/gpumon/agent/internal/collect"
)

// TestInitFailure: after a failed Init the collector reports the source as
// unavailable and calls no other NVML function, ever: with the library
// missing, any call would kill the process.
func TestInitFailure(t *testing.T) {
	for _, ret := range []nvml.Return{
		nvml.ERROR_LIBRARY_NOT_FOUND,
		nvml.ERROR_DRIVER_NOT_LOADED,
		nvml.ERROR_LIB_RM_VERSION_MISMATCH,
	} {
		t.Run(ret.Error(), func(t *testing.T) {
			inits := 0
			lib := &mock.Interface{InitFunc: func() nvml.Return { inits++; return ret }}
			tripwire(t, lib)
			c := New(lib, nil)
			for range 3 {
				s, err := collectOnce(t, c)
				if !errors.Is(err, collect.ErrUnavailable) || !strings.Contains(err.Error(), ret.Error()) {
					t.Errorf("err = %v, want ErrUnavailable mentioning %s", err, ret)
				}
				if s.GPUs != nil || s.DriverVersion != "" {
					t.Errorf("sample filled after failed init: %+v", s)
				}
			}
			if err := c.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if _, err := collectOnce(t, c); !errors.Is(err, collect.ErrUnavailable) {
				t.Errorf("after Close: %v", err)
			}
			if inits != 1 {
				t.Errorf("Init called %d times, want 1", inits)
			}
		})
	}
}

func TestClose(t *testing.T) {
	lib := fakeLib(fakeDevices(1)...)
	c := New(lib, nil)
	if err := c.Close(); err != nil {
		t.Fatalf("Close before use: %v", err)
	}
	if n := len(lib.ShutdownCalls()); n != 0 {
		t.Errorf("Shutdown without Init: %d calls", n)
	}
	c = New(lib, nil)
	if _, err := collectOnce(t, c); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
	if n := len(lib.ShutdownCalls()); n != 1 {
		t.Errorf("Shutdown called %d times, want 1", n)
	}
	if _, err := collectOnce(t, c); !errors.Is(err, collect.ErrUnavailable) {
		t.Errorf("Collect after Close: %v", err)
	}
	if n := len(lib.InitCalls()); n != 1 {
		t.Errorf("Init called %d times, want 1", n)
	}
}

// TestSymbols: functions that drivers add or drop (clock reasons,
// temperature) are only called when the library has their symbols.
func TestSymbols(t *testing.T) {
	cases := []struct {
		name    string
		symbols []string
		want    []string
	}{
		{"current driver", append([]string{symEventReasons, symThrottleReasons, symTemperature, symFieldValues, symPCIeThroughput}, gpmSymbols...), []string{"sw_power_cap"}},
		{"old driver", []string{symThrottleReasons, symTemperature, symFieldValues}, []string{"hw_slowdown"}},
		{"none", nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dev := fakeDevice(0)
			dev.GetCurrentClocksThrottleReasonsFunc = func() (uint64, nvml.Return) {
				return nvml.ClocksThrottleReasonHwSlowdown, nvml.SUCCESS
			}
			if !slices.Contains(tc.symbols, symEventReasons) {
				dev.GetCurrentClocksEventReasonsFunc = nil // would panic
			}
			if !slices.Contains(tc.symbols, symThrottleReasons) {
				dev.GetCurrentClocksThrottleReasonsFunc = nil
			}
			hasTemp := slices.Contains(tc.symbols, symTemperature)
			if !hasTemp {
				dev.GetTemperatureFunc = nil
			}
			hasFields, hasGPM := slices.Contains(tc.symbols, symFieldValues), slices.Contains(tc.symbols, gpmSymbols[0])
			if !hasFields {
				dev.GetFieldValuesFunc = nil
			}
			if !slices.Contains(tc.symbols, symPCIeThroughput) {
				dev.GetPcieThroughputFunc = nil
			}
			if !hasGPM {
				dev.GpmQueryDeviceSupportFunc, dev.GpmSampleGetFunc = nil, nil
			}
			lib := fakeLib(dev)
			if !hasGPM {
				lib.GpmSampleAllocFunc, lib.GpmMetricsGetFunc = nil, nil
			}
			lib.ExtensionsFunc = func() nvml.ExtendedInterface {
				return &mock.ExtendedInterface{LookupSymbolFunc: func(s string) error {
					if slices.Contains(tc.symbols, s) {
						return nil
					}
					return fmt.Errorf("symbol %s not found", s)
				}}
			}
			c := New(lib, nil)
			_, _ = collectOnce(t, c)
			s, err := collectOnce(t, c)
			if err != nil {
				t.Fatal(err)
			}
			g := s.GPUs[0]
			if (g.EnergyConsumption != nil) != hasFields || (g.Activity != nil) != hasGPM {
				t.Errorf("energy %v, activity %v", g.EnergyConsumption, g.Activity)
			}
			if !slices.Equal(g.ThrottleReasons, tc.want) {
				t.Errorf("reasons = %v, want %v", g.ThrottleReasons, tc.want)
			}
			if (g.Temperature != nil) != hasTemp || g.Utilization == nil {
				t.Errorf("temperature %v, utilization %v", g.Temperature, g.Utilization)
			}
		})
	}
}

func TestThrottleReasons(t *testing.T) {
	cases := []struct {
		mask uint64
		want []string
	}{
		{0, nil},
		{nvml.ClocksEventReasonGpuIdle, []string{"gpu_idle"}},
		{nvml.ClocksEventReasonSwPowerCap | nvml.ClocksEventReasonSwThermalSlowdown,
			[]string{"sw_power_cap", "sw_thermal_slowdown"}},
		{nvml.ClocksThrottleReasonHwSlowdown | nvml.ClocksThrottleReasonHwThermalSlowdown |
			nvml.ClocksThrottleReasonHwPowerBrakeSlowdown,
			[]string{"hw_slowdown", "hw_thermal_slowdown", "hw_power_brake_slowdown"}},
		{1 << 40, nil},
		{nvml.ClocksEventReasonAll, []string{"gpu_idle", "applications_clocks_setting", "sw_power_cap",
			"hw_slowdown", "sync_boost", "sw_thermal_slowdown", "hw_thermal_slowdown",
			"hw_power_brake_slowdown", "display_clock_setting", "board_limit", "reliability"}},
	}
	for _, tc := range cases {
		if got := ThrottleReasons(tc.mask); !slices.Equal(got, tc.want) {
			t.Errorf("ThrottleReasons(%#x) = %v, want %v", tc.mask, got, tc.want)
		}
	}
}

func TestFormatCUDAVersion(t *testing.T) {
	cases := map[int]string{12040: "12.4", 12020: "12.2", 11080: "11.8", 13000: "13.0", 12090: "12.9", 0: "", -1: ""}
	for in, want := range cases {
		if got := FormatCUDAVersion(in); got != want {
			t.Errorf("FormatCUDAVersion(%d) = %q, want %q", in, got, want)
		}
	}
}

// TestSimulatedMark: a library that says it is simulated marks the sample.
func TestSimulatedMark(t *testing.T) {
	lib := simulatedLib{fakeLib(fakeDevices(1)...)}
	s, err := collectOnce(t, New(lib, nil))
	if err != nil || !s.Simulated {
		t.Errorf("err = %v, simulated = %v", err, s.Simulated)
	}
}

type simulatedLib struct{ *mock.Interface }

func (simulatedLib) Simulated() bool { return true }
