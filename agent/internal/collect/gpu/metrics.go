package gpu

import "github.com/NVIDIA/go-nvml/pkg/nvml"

// metric names one optional NVML read, for remembering what a card does not
// support and for logging.
type metric uint8

const (
	mTemperature metric = iota
	mUtilization
	mEncoder
	mDecoder
	mFan
	mPowerDraw
	mPowerLimit
	mSMClock
	mMemClock
	mPState
	mThrottle
	mECCCorrected
	mECCUncorrected
	mPersistence
	mMIG
	mPCIeGen
	mPCIeWidth
	mComputeProcs
	mGraphicsProcs
	mProcessUtil
	mPCIInfo
	mMemTemp
	mEnergy
	mPCIeTx
	mPCIeRx
	mPCIeReplay
	mNVLink
	mRemapped
	mActivity
	metricCount
)

var metricNames = [metricCount]string{
	mTemperature:    "temperature",
	mUtilization:    "utilization",
	mEncoder:        "encoder_utilization",
	mDecoder:        "decoder_utilization",
	mFan:            "fan_speed",
	mPowerDraw:      "power_draw",
	mPowerLimit:     "power_limit",
	mSMClock:        "sm_clock",
	mMemClock:       "memory_clock",
	mPState:         "performance_state",
	mThrottle:       "throttle_reasons",
	mECCCorrected:   "ecc_errors_corrected",
	mECCUncorrected: "ecc_errors_uncorrected",
	mPersistence:    "persistence_mode",
	mMIG:            "mig_mode",
	mPCIeGen:        "pcie_generation",
	mPCIeWidth:      "pcie_width",
	mComputeProcs:   "compute_processes",
	mGraphicsProcs:  "graphics_processes",
	mProcessUtil:    "process_utilization",
	mPCIInfo:        "pci_bus_id",
	mMemTemp:        "memory_temperature",
	mEnergy:         "energy_consumption",
	mPCIeTx:         "pcie_tx_throughput",
	mPCIeRx:         "pcie_rx_throughput",
	mPCIeReplay:     "pcie_replay_counter",
	mNVLink:         "nvlink_bandwidth_total",
	mRemapped:       "remapped_rows",
	mActivity:       "activity",
}

// String returns the metric's name as the report spells the field.
func (m metric) String() string {
	if m < metricCount {
		return metricNames[m]
	}
	return "unknown"
}

// metricSet is a set of metrics.
type metricSet uint32

// A metricSet holds at most 32 metrics.
var _ [32 - metricCount]struct{}

func (s metricSet) has(m metric) bool { return s&(1<<m) != 0 }

func (s *metricSet) set(m metric) { *s |= 1 << m }

// throttleNames maps NVML's clock event (throttle) reason bits to the
// names reports use.
var throttleNames = []struct {
	bit  uint64
	name string
}{
	{nvml.ClocksEventReasonGpuIdle, "gpu_idle"},
	{nvml.ClocksEventReasonApplicationsClocksSetting, "applications_clocks_setting"},
	{nvml.ClocksEventReasonSwPowerCap, "sw_power_cap"},
	{nvml.ClocksThrottleReasonHwSlowdown, "hw_slowdown"},
	{nvml.ClocksEventReasonSyncBoost, "sync_boost"},
	{nvml.ClocksEventReasonSwThermalSlowdown, "sw_thermal_slowdown"},
	{nvml.ClocksThrottleReasonHwThermalSlowdown, "hw_thermal_slowdown"},
	{nvml.ClocksThrottleReasonHwPowerBrakeSlowdown, "hw_power_brake_slowdown"},
	{nvml.ClocksEventReasonDisplayClockSetting, "display_clock_setting"},
	{nvml.ClocksEventReasonBoardLimit, "board_limit"},
	{nvml.ClocksEventReasonReliability, "reliability"},
}

// ThrottleReasons names the active reasons in an NVML clock event reasons
// bit mask, in bit order. Unknown bits are ignored. No active reason gives
// an empty (nil) list.
func ThrottleReasons(mask uint64) []string {
	if mask == 0 {
		return nil
	}
	var out []string
	for _, t := range throttleNames {
		if mask&t.bit != 0 {
			out = append(out, t.name)
		}
	}
	return out
}
