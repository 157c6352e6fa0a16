package gpu

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
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
		GetPciInfoFunc: func() (nvml.PciInfo, nvml.Return) {
			var p nvml.PciInfo
			for j, c := range fmt.Sprintf("00000000:%02X:00.0", 0x18+i) {
				p.BusId[j] = int8(c)
			}
			return p, nvml.SUCCESS
		},
		GetPcieThroughputFunc: func(c nvml.PcieUtilCounter) (uint32, nvml.Return) {
			if c == nvml.PCIE_UTIL_TX_BYTES {
				return 1200, nvml.SUCCESS
			}
			return 5400, nvml.SUCCESS
		},
		GetFieldValuesFunc: func(values []nvml.FieldValue) nvml.Return {
			for j := range values {
				fillField(&values[j], fieldAnswers[values[j].FieldId])
			}
			return nvml.SUCCESS
		},
		GpmQueryDeviceSupportFunc: func() (nvml.GpmSupport, nvml.Return) {
			return nvml.GpmSupport{IsSupportedDevice: 1}, nvml.SUCCESS
		},
		GpmSampleGetFunc: func(s nvml.GpmSample) nvml.Return {
			s.(*fakeSample).taken = gpmClock.Add(1)
			return nvml.SUCCESS
		},
	}
}

// gpmClock orders fake GPM samples.
var gpmClock atomic.Int64

// fakeSample is a GPM sample that remembers when it was taken and whether
// it was freed.
type fakeSample struct {
	taken int64
	freed bool
}

func (s *fakeSample) Free() nvml.Return { s.freed = true; return nvml.SUCCESS }
func (s *fakeSample) Get(nvml.Device) nvml.Return {
	panic("the collector takes samples through the device")
}
func (s *fakeSample) MigGet(nvml.Device, int) nvml.Return { panic("MIG samples are not read") }

// fieldAnswer is what the fake answers for one NVML field.
type fieldAnswer struct {
	typ   nvml.ValueType
	value uint64
	ret   nvml.Return
}

// fieldAnswers are the fake's field values: an H100's memory temperature,
// energy, PCIe replays, NVLink traffic (KiB) and remapped rows.
var fieldAnswers = map[uint32]fieldAnswer{
	nvml.FI_DEV_MEMORY_TEMP:               {nvml.VALUE_TYPE_UNSIGNED_INT, 58, nvml.SUCCESS},
	nvml.FI_DEV_TOTAL_ENERGY_CONSUMPTION:  {nvml.VALUE_TYPE_UNSIGNED_LONG_LONG, 9_500_000_000, nvml.SUCCESS},
	nvml.FI_DEV_PCIE_REPLAY_COUNTER:       {nvml.VALUE_TYPE_UNSIGNED_INT, 1, nvml.SUCCESS},
	nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_TX: {nvml.VALUE_TYPE_UNSIGNED_LONG_LONG, 3_000_000, nvml.SUCCESS},
	nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_RX: {nvml.VALUE_TYPE_UNSIGNED_LONG_LONG, 4_250_000, nvml.SUCCESS},
	nvml.FI_DEV_REMAPPED_COR:              {nvml.VALUE_TYPE_UNSIGNED_INT, 1, nvml.SUCCESS},
	nvml.FI_DEV_REMAPPED_UNC:              {nvml.VALUE_TYPE_UNSIGNED_INT, 0, nvml.SUCCESS},
	nvml.FI_DEV_REMAPPED_PENDING:          {nvml.VALUE_TYPE_UNSIGNED_INT, 1, nvml.SUCCESS},
	nvml.FI_DEV_REMAPPED_FAILURE:          {nvml.VALUE_TYPE_UNSIGNED_INT, 0, nvml.SUCCESS},
}

// fillField writes an answer into a field value as NVML does. A field the
// fake does not know answers NOT_SUPPORTED.
func fillField(fv *nvml.FieldValue, a fieldAnswer) {
	if a.ret == 0 && a.typ == 0 && a.value == 0 {
		a.ret = nvml.ERROR_NOT_SUPPORTED
	}
	fv.ValueType, fv.NvmlReturn = uint32(a.typ), uint32(a.ret)
	binary.NativeEndian.PutUint64(fv.Value[:], a.value)
}

// gpmPercent are the fake's GPM metrics, in percent as NVML gives them.
var gpmPercent = map[uint32]float64{
	uint32(nvml.GPM_METRIC_GRAPHICS_UTIL):   86,
	uint32(nvml.GPM_METRIC_SM_UTIL):         70,
	uint32(nvml.GPM_METRIC_SM_OCCUPANCY):    35,
	uint32(nvml.GPM_METRIC_ANY_TENSOR_UTIL): 42,
	uint32(nvml.GPM_METRIC_DRAM_BW_UTIL):    30,
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
		GpmSampleAllocFunc: func() (nvml.GpmSample, nvml.Return) { return &fakeSample{}, nvml.SUCCESS },
		GpmMetricsGetFunc: func(q *nvml.GpmMetricsGetType) nvml.Return {
			s1, s2 := q.Sample1.(*fakeSample), q.Sample2.(*fakeSample)
			if s1.taken == 0 || s2.taken <= s1.taken || s1.freed || s2.freed {
				return nvml.ERROR_INVALID_ARGUMENT // samples out of order or not taken
			}
			for i := range q.NumMetrics {
				m := &q.Metrics[i]
				v, ok := gpmPercent[m.MetricId]
				m.Value, m.NvmlReturn = v, uint32(nvml.SUCCESS)
				if !ok {
					m.NvmlReturn = uint32(nvml.ERROR_NOT_SUPPORTED)
				}
			}
			return nvml.SUCCESS
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
