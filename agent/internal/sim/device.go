package sim

import (
	"math"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"
)

// wire sets the mock device's functions that the gpu collector calls (the
// mock leaves them nil) to read the model for GPU g at now().
func wire(d *server.Device, m *model, g int, now func() time.Time) {
	total := d.Config.MemoryMB
	s := m.spec
	d.GetMemoryInfoFunc = func() (nvml.Memory, nvml.Return) {
		return m.memory(g, now(), total), nvml.SUCCESS
	}
	d.GetTemperatureFunc = func(nvml.TemperatureSensors) (uint32, nvml.Return) {
		return uint32(math.Round(m.temperature(g, now()))), nvml.SUCCESS
	}
	d.GetUtilizationRatesFunc = func() (nvml.Utilization, nvml.Return) {
		t := now()
		return nvml.Utilization{
			Gpu:    uint32(math.Round(m.util(g, t))),
			Memory: uint32(math.Round(m.memUtil(g, t))),
		}, nvml.SUCCESS
	}
	d.GetPowerUsageFunc = func() (uint32, nvml.Return) {
		return uint32(m.power(g, now()) * 1000), nvml.SUCCESS
	}
	d.GetEnforcedPowerLimitFunc = func() (uint32, nvml.Return) {
		return uint32(s.limitWatts * 1000), nvml.SUCCESS
	}
	d.GetPowerManagementLimitFunc = d.GetEnforcedPowerLimitFunc
	d.GetClockInfoFunc = func(c nvml.ClockType) (uint32, nvml.Return) {
		switch c {
		case nvml.CLOCK_SM, nvml.CLOCK_GRAPHICS:
			return m.smClock(g, now()), nvml.SUCCESS
		case nvml.CLOCK_MEM:
			return m.memClock(g, now()), nvml.SUCCESS
		}
		return 0, nvml.ERROR_NOT_SUPPORTED
	}
	d.GetPerformanceStateFunc = func() (nvml.Pstates, nvml.Return) {
		return m.pstate(g, now()), nvml.SUCCESS
	}
	d.GetCurrentClocksEventReasonsFunc = func() (uint64, nvml.Return) {
		return m.reasons(g, now()), nvml.SUCCESS
	}
	d.GetCurrentClocksThrottleReasonsFunc = d.GetCurrentClocksEventReasonsFunc
	d.GetEncoderUtilizationFunc = func() (uint32, uint32, nvml.Return) {
		enc, _ := m.codec(g, now())
		return enc, 167000, nvml.SUCCESS
	}
	d.GetDecoderUtilizationFunc = func() (uint32, uint32, nvml.Return) {
		_, dec := m.codec(g, now())
		return dec, 167000, nvml.SUCCESS
	}
	d.GetCurrPcieLinkGenerationFunc = func() (int, nvml.Return) {
		return m.pcieGen(g, now()), nvml.SUCCESS
	}
	d.GetCurrPcieLinkWidthFunc = func() (int, nvml.Return) {
		return s.pcieWidth, nvml.SUCCESS
	}
	wireProcesses(d, m, g, now, total)
	wireCounters(d, m, g, now)
	wireGPM(d, m, g, now)
	if s.consumer {
		wireConsumer(d, m, g, now)
	} else {
		wireDataCentre(d, m, g, now)
	}
	if g == s.migGPU {
		wireMIG(d)
	}
}

// wireMIG puts the GPU in MIG mode, where NVML reports no whole-GPU or
// per-process utilisation.
func wireMIG(d *server.Device) {
	d.MigMode = nvml.DEVICE_MIG_ENABLE
	d.GetUtilizationRatesFunc = func() (nvml.Utilization, nvml.Return) {
		return nvml.Utilization{}, nvml.ERROR_NOT_SUPPORTED
	}
	d.GetProcessUtilizationFunc = func(uint64) ([]nvml.ProcessUtilizationSample, nvml.Return) {
		return nil, nvml.ERROR_NOT_SUPPORTED
	}
}

// wireProcesses sets the process lists and per-process utilisation.
func wireProcesses(d *server.Device, m *model, g int, now func() time.Time, total uint64) {
	list := func(graphics bool) ([]nvml.ProcessInfo, nvml.Return) {
		var out []nvml.ProcessInfo
		for _, p := range m.procs(g, now(), total) {
			if graphics && p.graphics || !graphics && p.compute {
				mem := p.memMiB
				if graphics && p.compute {
					mem = mem * 2 / 5 // the drawing side holds less
				}
				out = append(out, nvml.ProcessInfo{Pid: p.pid, UsedGpuMemory: mem << 20})
			}
		}
		return out, nvml.SUCCESS
	}
	d.GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) { return list(false) }
	d.GetGraphicsRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) { return list(true) }
	d.GetProcessUtilizationFunc = func(lastSeen uint64) ([]nvml.ProcessUtilizationSample, nvml.Return) {
		t := now()
		ts := uint64(t.UnixMicro())
		if ts <= lastSeen {
			return nil, nvml.ERROR_NOT_FOUND
		}
		var out []nvml.ProcessUtilizationSample
		for _, p := range m.procs(g, t, total) {
			if p.compute {
				out = append(out, nvml.ProcessUtilizationSample{Pid: p.pid, TimeStamp: ts, SmUtil: p.sm})
			}
		}
		if len(out) == 0 {
			return nil, nvml.ERROR_NOT_FOUND
		}
		return out, nvml.SUCCESS
	}
}

// wireConsumer sets what differs on a GeForce card: fans, no ECC (it is
// off by default), no MIG, persistence mode off.
func wireConsumer(d *server.Device, m *model, g int, now func() time.Time) {
	d.GetFanSpeedFunc = func() (uint32, nvml.Return) { return m.fan(g, now()), nvml.SUCCESS }
	d.GetTotalEccErrorsFunc = func(nvml.MemoryErrorType, nvml.EccCounterType) (uint64, nvml.Return) {
		return 0, nvml.ERROR_NOT_SUPPORTED
	}
	d.GetMigModeFunc = func() (int, int, nvml.Return) { return 0, 0, nvml.ERROR_NOT_SUPPORTED }
	d.GetPersistenceModeFunc = func() (nvml.EnableState, nvml.Return) { return nvml.FEATURE_DISABLED, nvml.SUCCESS }
}

// wireDataCentre sets what differs on an SXM card: passive cooling (no fan
// reading), ECC on, persistence mode on. MIG mode is the mock's own.
func wireDataCentre(d *server.Device, m *model, g int, now func() time.Time) {
	d.GetFanSpeedFunc = func() (uint32, nvml.Return) { return 0, nvml.ERROR_NOT_SUPPORTED }
	d.GetTotalEccErrorsFunc = func(t nvml.MemoryErrorType, _ nvml.EccCounterType) (uint64, nvml.Return) {
		if t == nvml.MEMORY_ERROR_TYPE_CORRECTED {
			return m.eccCorrected(g, now()), nvml.SUCCESS
		}
		return 0, nvml.SUCCESS
	}
	d.GetPersistenceModeFunc = func() (nvml.EnableState, nvml.Return) { return nvml.FEATURE_ENABLED, nvml.SUCCESS }
}

// device is a simulated GPU as the library hands it out. The mock's own
// methods record every call with its arguments, which would grow without
// bound in a long-running agent; the methods taking arguments therefore
// call the func fields directly.
type device struct {
	*server.Device
	index int
}

func (d device) GetTemperature(s nvml.TemperatureSensors) (uint32, nvml.Return) {
	return d.GetTemperatureFunc(s)
}

func (d device) GetClockInfo(c nvml.ClockType) (uint32, nvml.Return) {
	return d.GetClockInfoFunc(c)
}

func (d device) GetTotalEccErrors(t nvml.MemoryErrorType, c nvml.EccCounterType) (uint64, nvml.Return) {
	return d.GetTotalEccErrorsFunc(t, c)
}

func (d device) GetProcessUtilization(lastSeen uint64) ([]nvml.ProcessUtilizationSample, nvml.Return) {
	return d.GetProcessUtilizationFunc(lastSeen)
}

func (d device) GetPcieThroughput(c nvml.PcieUtilCounter) (uint32, nvml.Return) {
	return d.GetPcieThroughputFunc(c)
}

func (d device) GetFieldValues(values []nvml.FieldValue) nvml.Return {
	return d.GetFieldValuesFunc(values)
}

func (d device) GpmSampleGet(s nvml.GpmSample) nvml.Return { return d.GpmSampleGetFunc(s) }
