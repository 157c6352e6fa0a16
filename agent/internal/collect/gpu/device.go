package gpu

import (
	"errors"
	"fmt"
	"math"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/gpumon/gpumon/agent/internal/collect"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

const mib = 1 << 20

// reader reads one GPU during one collection.
type reader struct {
	c   *Collector
	idx int
	st  *gpuState
	dev nvml.Device
	g   *gpumonv1.Gpu
}

// read returns the GPU and its processes. When the handle or a basic read
// (UUID, name, memory) fails, the GPU comes back with Error set, without
// optional metrics or processes, together with the error.
func (r *reader) read() (*gpumonv1.Gpu, []collect.GPUProcess, error) {
	r.g = &gpumonv1.Gpu{Id: int32(r.idx)}
	dev, ret := r.c.lib.DeviceGetHandleByIndex(r.idx)
	if ret != nvml.SUCCESS {
		return r.fail(fmt.Errorf("get handle of GPU %d: %w", r.idx, ret))
	}
	r.dev = dev
	if err := r.readBasic(); err != nil {
		return r.fail(err)
	}
	r.readLoad()
	r.readPower()
	r.readClocks()
	r.readHealth()
	r.readLink()
	r.readPCIe()
	r.readFields()
	r.readActivity()
	return r.g, r.readProcesses(), nil
}

func (r *reader) fail(err error) (*gpumonv1.Gpu, []collect.GPUProcess, error) {
	r.g.Error = err.Error()
	return r.g, nil, err
}

// readBasic reads what every GPU must answer. All three are tried so the
// error names every read that failed.
func (r *reader) readBasic() error {
	var errs []error
	if v, ret := r.dev.GetUUID(); ret == nvml.SUCCESS {
		r.g.Uuid = v
	} else {
		errs = append(errs, fmt.Errorf("read uuid of GPU %d: %w", r.idx, ret))
	}
	if v, ret := r.dev.GetName(); ret == nvml.SUCCESS {
		r.g.Name = v
	} else {
		errs = append(errs, fmt.Errorf("read name of GPU %d: %w", r.idx, ret))
	}
	if m, ret := r.dev.GetMemoryInfo(); ret == nvml.SUCCESS {
		r.g.MemoryUsed = toMiB(m.Used)
		r.g.MemoryTotal = toMiB(m.Total)
		r.g.MemoryFree = ptr(toMiB(m.Free))
	} else {
		errs = append(errs, fmt.Errorf("read memory info of GPU %d: %w", r.idx, ret))
	}
	return errors.Join(errs...)
}

// readLoad reads temperature and utilisation figures.
func (r *reader) readLoad() {
	if r.want(mTemperature) {
		v, ret := r.dev.GetTemperature(nvml.TEMPERATURE_GPU)
		r.g.Temperature = r.u32(mTemperature, v, ret)
	}
	if r.want(mUtilization) {
		u, ret := r.dev.GetUtilizationRates()
		if r.ok(mUtilization, ret) {
			r.g.Utilization, r.g.MemoryUtilization = ptr(u.Gpu), ptr(u.Memory)
		}
	}
	if r.want(mEncoder) {
		v, _, ret := r.dev.GetEncoderUtilization()
		r.g.EncoderUtilization = r.u32(mEncoder, v, ret)
	}
	if r.want(mDecoder) {
		v, _, ret := r.dev.GetDecoderUtilization()
		r.g.DecoderUtilization = r.u32(mDecoder, v, ret)
	}
	if r.want(mFan) {
		v, ret := r.dev.GetFanSpeed()
		r.g.FanSpeed = r.u32(mFan, v, ret)
	}
}

// readPower reads power draw and limit, converting milliwatts to watts.
func (r *reader) readPower() {
	if r.want(mPowerDraw) {
		v, ret := r.dev.GetPowerUsage()
		if r.ok(mPowerDraw, ret) {
			r.g.PowerDraw = ptr(float64(v) / 1000)
		}
	}
	if r.want(mPowerLimit) {
		v, ret := r.dev.GetEnforcedPowerLimit()
		if r.ok(mPowerLimit, ret) {
			r.g.PowerLimit = ptr(float64(v) / 1000)
		}
	}
}

// readClocks reads clocks, performance state and throttle reasons.
func (r *reader) readClocks() {
	if r.want(mSMClock) {
		v, ret := r.dev.GetClockInfo(nvml.CLOCK_SM)
		r.g.SmClock = r.u32(mSMClock, v, ret)
	}
	if r.want(mMemClock) {
		v, ret := r.dev.GetClockInfo(nvml.CLOCK_MEM)
		r.g.MemoryClock = r.u32(mMemClock, v, ret)
	}
	if r.want(mPState) {
		p, ret := r.dev.GetPerformanceState()
		if r.ok(mPState, ret) && p >= nvml.PSTATE_0 && p < nvml.PSTATE_UNKNOWN {
			r.g.PerformanceState = ptr(uint32(p))
		}
	}
	if r.c.reasons != reasonsNone && r.want(mThrottle) {
		var mask uint64
		var ret nvml.Return
		if r.c.reasons == reasonsEvent {
			mask, ret = r.dev.GetCurrentClocksEventReasons()
		} else {
			mask, ret = r.dev.GetCurrentClocksThrottleReasons()
		}
		if r.ok(mThrottle, ret) {
			r.g.ThrottleReasons = ThrottleReasons(mask)
		}
	}
}

// readHealth reads volatile ECC counters, persistence and MIG mode.
func (r *reader) readHealth() {
	if r.want(mECCCorrected) {
		v, ret := r.dev.GetTotalEccErrors(nvml.MEMORY_ERROR_TYPE_CORRECTED, nvml.VOLATILE_ECC)
		if r.ok(mECCCorrected, ret) {
			r.g.EccErrorsCorrected = ptr(clampU32(v))
		}
	}
	if r.want(mECCUncorrected) {
		v, ret := r.dev.GetTotalEccErrors(nvml.MEMORY_ERROR_TYPE_UNCORRECTED, nvml.VOLATILE_ECC)
		if r.ok(mECCUncorrected, ret) {
			r.g.EccErrorsUncorrected = ptr(clampU32(v))
		}
	}
	if r.want(mPersistence) {
		v, ret := r.dev.GetPersistenceMode()
		if r.ok(mPersistence, ret) {
			r.g.PersistenceMode = ptr(v == nvml.FEATURE_ENABLED)
		}
	}
	if r.want(mMIG) {
		cur, _, ret := r.dev.GetMigMode()
		if r.ok(mMIG, ret) {
			r.g.MigMode = ptr(cur == nvml.DEVICE_MIG_ENABLE)
		}
	}
}

// readLink reads the current PCIe generation and width.
func (r *reader) readLink() {
	if r.want(mPCIeGen) {
		v, ret := r.dev.GetCurrPcieLinkGeneration()
		if r.ok(mPCIeGen, ret) && v >= 0 {
			r.g.PcieGeneration = ptr(uint32(v))
		}
	}
	if r.want(mPCIeWidth) {
		v, ret := r.dev.GetCurrPcieLinkWidth()
		if r.ok(mPCIeWidth, ret) && v >= 0 {
			r.g.PcieWidth = ptr(uint32(v))
		}
	}
}

// want reports whether metric m is worth asking for on this GPU.
func (r *reader) want(m metric) bool {
	return !r.st.unsupported.has(m) && !r.c.missing.has(m)
}

// ok reports whether ret is a success. A metric the card does not support
// is remembered and not asked again; other failures are logged once per
// GPU and metric at debug level.
func (r *reader) ok(m metric, ret nvml.Return) bool {
	switch ret {
	case nvml.SUCCESS:
		return true
	case nvml.ERROR_NOT_SUPPORTED:
		r.st.unsupported.set(m)
		return false
	}
	if !r.st.logged.has(m) {
		r.st.logged.set(m)
		r.c.log.Debug("gpu metric read failed", "gpu", r.idx, "metric", m.String(), "err", ret.Error())
	}
	return false
}

// u32 returns &v when ret is a success, nil otherwise.
func (r *reader) u32(m metric, v uint32, ret nvml.Return) *uint32 {
	if !r.ok(m, ret) {
		return nil
	}
	return &v
}

func ptr[T any](v T) *T { return &v }

func toMiB(b uint64) uint32 { return clampU32(b / mib) }

func clampU32(v uint64) uint32 { return uint32(min(v, math.MaxUint32)) }
