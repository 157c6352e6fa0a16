package gpu

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/gpumon/gpumon/agent/internal/collect"
)

func pi(pid uint32, mem uint64) nvml.ProcessInfo {
	return nvml.ProcessInfo{Pid: pid, UsedGpuMemory: mem * mib}
}

func TestMergeProcesses(t *testing.T) {
	cases := []struct {
		name              string
		compute, graphics []nvml.ProcessInfo
		want              []collect.GPUProcess
	}{
		{"none", nil, nil, []collect.GPUProcess{}},
		{"compute only", []nvml.ProcessInfo{pi(20, 500), pi(10, 100)}, nil, []collect.GPUProcess{
			{PID: 10, GPU: 3, UsedMemory: 100, Type: "compute"},
			{PID: 20, GPU: 3, UsedMemory: 500, Type: "compute"},
		}},
		{"graphics only", nil, []nvml.ProcessInfo{pi(7, 64)}, []collect.GPUProcess{
			{PID: 7, GPU: 3, UsedMemory: 64, Type: "graphics"},
		}},
		{"both, compute larger", []nvml.ProcessInfo{pi(5, 900)}, []nvml.ProcessInfo{pi(5, 300), pi(6, 40)},
			[]collect.GPUProcess{
				{PID: 5, GPU: 3, UsedMemory: 900, Type: "compute+graphics"},
				{PID: 6, GPU: 3, UsedMemory: 40, Type: "graphics"},
			}},
		{"both, graphics larger", []nvml.ProcessInfo{pi(5, 300)}, []nvml.ProcessInfo{pi(5, 900)},
			[]collect.GPUProcess{{PID: 5, GPU: 3, UsedMemory: 900, Type: "compute+graphics"}}},
		{"memory not available", []nvml.ProcessInfo{{Pid: 8, UsedGpuMemory: math.MaxUint64}}, nil,
			[]collect.GPUProcess{{PID: 8, GPU: 3, UsedMemory: 0, Type: "compute"}}},
		{"same pid twice (MIG)", []nvml.ProcessInfo{pi(9, 100), pi(9, 200)}, nil,
			[]collect.GPUProcess{{PID: 9, GPU: 3, UsedMemory: 200, Type: "compute"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := MergeProcesses(3, tc.compute, tc.graphics)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestProcessUtilization(t *testing.T) {
	sample := func(pid uint32, ts uint64, sm uint32) nvml.ProcessUtilizationSample {
		return nvml.ProcessUtilizationSample{Pid: pid, TimeStamp: ts, SmUtil: sm}
	}
	cases := []struct {
		name    string
		samples []nvml.ProcessUtilizationSample
		ret     nvml.Return
		want    string // SM utilisation of PIDs 100 and 200
	}{
		{"newest sample wins", []nvml.ProcessUtilizationSample{
			sample(100, 5, 10), sample(100, 9, 70), sample(100, 7, 30), sample(200, 8, 20),
		}, nvml.SUCCESS, "70 20"},
		{"missing process was idle", []nvml.ProcessUtilizationSample{sample(100, 5, 55)}, nvml.SUCCESS, "55 0"},
		{"no samples (not found)", nil, nvml.ERROR_NOT_FOUND, "0 0"},
		{"no samples (empty)", []nvml.ProcessUtilizationSample{}, nvml.ERROR_INSUFFICIENT_SIZE, "0 0"},
		{"not supported", nil, nvml.ERROR_NOT_SUPPORTED, "nil nil"},
		{"other error", nil, nvml.ERROR_UNKNOWN, "nil nil"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dev := fakeDevice(0)
			dev.GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) {
				return []nvml.ProcessInfo{pi(100, 10), pi(200, 20)}, nvml.SUCCESS
			}
			var lastSeen []uint64
			dev.GetProcessUtilizationFunc = func(ts uint64) ([]nvml.ProcessUtilizationSample, nvml.Return) {
				lastSeen = append(lastSeen, ts)
				return tc.samples, tc.ret
			}
			c := New(fakeLib(dev), nil)
			for range 2 {
				s, err := collectOnce(t, c)
				if err != nil {
					t.Fatal(err)
				}
				if got := smString(s.GPUProcesses); got != tc.want {
					t.Errorf("SM utilisation = %s, want %s", got, tc.want)
				}
			}
			if tc.name == "newest sample wins" && !slices.Equal(lastSeen, []uint64{0, 9}) {
				t.Errorf("last seen timestamps = %v, want [0 9]", lastSeen)
			}
		})
	}
}

func smString(ps []collect.GPUProcess) string {
	var out []string
	for _, p := range ps {
		if p.SMUtilization == nil {
			out = append(out, "nil")
		} else {
			out = append(out, fmt.Sprint(*p.SMUtilization))
		}
	}
	return strings.Join(out, " ")
}
