package gpu

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
)

// fakeDevice returns a mock H100-like GPU i with every function the
// collector calls set to a fixed, healthy answer. Tests override single
// functions to inject failures.
func fakeDevice(i int) *mock.Device {
	return &mock.Device{
		GetUUIDFunc: func() (string, nvml.Return) {
			return fmt.Sprintf("GPU-0000000%d-0000-0000-0000-000000000000", i), nvml.SUCCESS
		},
		GetNameFunc: func() (string, nvml.Return) { return "NVIDIA H100 80GB HBM3", nvml.SUCCESS },
		GetMemoryInfoFunc: func() (nvml.Memory, nvml.Return) {
			return nvml.Memory{Total: 81920 * mib, Used: 1000 * mib, Free: 80920 * mib}, nvml.SUCCESS
		},
		GetTemperatureFunc: func(nvml.TemperatureSensors) (uint32, nvml.Return) { return 45, nvml.SUCCESS },
		GetUtilizationRatesFunc: func() (nvml.Utilization, nvml.Return) {
			return nvml.Utilization{Gpu: 87, Memory: 40}, nvml.SUCCESS
		},
		GetEncoderUtilizationFunc:       func() (uint32, uint32, nvml.Return) { return 3, 167000, nvml.SUCCESS },
		GetDecoderUtilizationFunc:       func() (uint32, uint32, nvml.Return) { return 9, 167000, nvml.SUCCESS },
		GetFanSpeedFunc:                 func() (uint32, nvml.Return) { return 55, nvml.SUCCESS },
		GetPowerUsageFunc:               func() (uint32, nvml.Return) { return 312500, nvml.SUCCESS },
		GetEnforcedPowerLimitFunc:       func() (uint32, nvml.Return) { return 700000, nvml.SUCCESS },
		GetPerformanceStateFunc:         func() (nvml.Pstates, nvml.Return) { return nvml.PSTATE_0, nvml.SUCCESS },
		GetCurrPcieLinkGenerationFunc:   func() (int, nvml.Return) { return 5, nvml.SUCCESS },
		GetCurrPcieLinkWidthFunc:        func() (int, nvml.Return) { return 16, nvml.SUCCESS },
		GetPersistenceModeFunc:          func() (nvml.EnableState, nvml.Return) { return nvml.FEATURE_ENABLED, nvml.SUCCESS },
		GetMigModeFunc:                  func() (int, int, nvml.Return) { return 0, 0, nvml.SUCCESS },
		GetGraphicsRunningProcessesFunc: func() ([]nvml.ProcessInfo, nvml.Return) { return nil, nvml.SUCCESS },
		GetClockInfoFunc: func(c nvml.ClockType) (uint32, nvml.Return) {
			if c == nvml.CLOCK_MEM {
				return 2619, nvml.SUCCESS
			}
			return 1980, nvml.SUCCESS
		},
		GetCurrentClocksEventReasonsFunc: func() (uint64, nvml.Return) {
			return nvml.ClocksEventReasonSwPowerCap, nvml.SUCCESS
		},
		GetTotalEccErrorsFunc: func(t nvml.MemoryErrorType, _ nvml.EccCounterType) (uint64, nvml.Return) {
			if t == nvml.MEMORY_ERROR_TYPE_CORRECTED {
				return 2, nvml.SUCCESS
			}
			return 0, nvml.SUCCESS
		},
		GetComputeRunningProcessesFunc: func() ([]nvml.ProcessInfo, nvml.Return) {
			return []nvml.ProcessInfo{{Pid: uint32(100 + i), UsedGpuMemory: 990 * mib}}, nvml.SUCCESS
		},
		GetProcessUtilizationFunc: func(uint64) ([]nvml.ProcessUtilizationSample, nvml.Return) {
			return []nvml.ProcessUtilizationSample{{Pid: uint32(100 + i), TimeStamp: 10, SmUtil: 80}}, nvml.SUCCESS
		},
	}
}

// fakeLib returns a mock NVML library holding devs. Functions the
// collector must not call are left nil, so calling one panics.
func fakeLib(devs ...*mock.Device) *mock.Interface {
	return &mock.Interface{
		InitFunc:                       func() nvml.Return { return nvml.SUCCESS },
		ShutdownFunc:                   func() nvml.Return { return nvml.SUCCESS },
		SystemGetDriverVersionFunc:     func() (string, nvml.Return) { return "550.54.15", nvml.SUCCESS },
		SystemGetCudaDriverVersionFunc: func() (int, nvml.Return) { return 12040, nvml.SUCCESS },
		ExtensionsFunc: func() nvml.ExtendedInterface {
			return &mock.ExtendedInterface{LookupSymbolFunc: func(string) error { return nil }}
		},
		DeviceGetCountFunc: func() (int, nvml.Return) { return len(devs), nvml.SUCCESS },
		DeviceGetHandleByIndexFunc: func(i int) (nvml.Device, nvml.Return) {
			if i < 0 || i >= len(devs) {
				return nil, nvml.ERROR_INVALID_ARGUMENT
			}
			return devs[i], nvml.SUCCESS
		},
	}
}

// fakeDevices returns n healthy devices.
func fakeDevices(n int) []*mock.Device {
	devs := make([]*mock.Device, n)
	for i := range devs {
		devs[i] = fakeDevice(i)
	}
	return devs
}

// tripwire sets every unset function of lib to one that fails the test
// when called.
func tripwire(t *testing.T, lib *mock.Interface) {
	v := reflect.ValueOf(lib).Elem()
	for i := range v.NumField() {
		f, name := v.Field(i), v.Type().Field(i).Name
		if f.Kind() != reflect.Func || !f.IsNil() {
			continue
		}
		f.Set(reflect.MakeFunc(f.Type(), func(args []reflect.Value) []reflect.Value {
			t.Errorf("%s called after a failed Init", strings.TrimSuffix(name, "Func"))
			out := make([]reflect.Value, f.Type().NumOut())
			for j := range out {
				out[j] = reflect.Zero(f.Type().Out(j))
			}
			return out
		}))
	}
}
