package docker

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/docker/docker/api/types/container"

	"github.com/gpumon/gpumon/agent/internal/collect"
)

// Short ids of the recorded containers.
const (
	trainID   = "116f54c41d04" // --gpus '"device=0,1"'
	jupyterID = "9916a5fb8a8d" // nvidia runtime, NVIDIA_VISIBLE_DEVICES=2,3, cgroup v1
	webID     = "5be1ecc7935f" // no GPU
)

func load[T any](t testing.TB, name string) T {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return v
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestStatsFigures(t *testing.T) {
	tests := []struct {
		id       string
		cpu, mem float64
	}{
		{trainID, 300, 6447169536},
		{jupyterID, 50, 537919488},
		{webID, 0, 13107200},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			st := load[container.StatsResponse](t, "stats-"+tt.id+".json")
			if got := cpuPercent(st.PreCPUStats, st.CPUStats); !near(got, tt.cpu) {
				t.Errorf("cpuPercent = %v, want %v", got, tt.cpu)
			}
			if got := memUsage(st.MemoryStats); got != tt.mem {
				t.Errorf("memUsage = %v, want %v", got, tt.mem)
			}
		})
	}
}

func TestCPUPercentPerCPUFallback(t *testing.T) {
	pre := container.CPUStats{CPUUsage: container.CPUUsage{TotalUsage: 100}, SystemUsage: 1000}
	cur := container.CPUStats{CPUUsage: container.CPUUsage{TotalUsage: 200, PercpuUsage: []uint64{1, 1, 1, 1}}, SystemUsage: 2000}
	if got := cpuPercent(pre, cur); got != 40 {
		t.Errorf("cpuPercent = %v, want 40", got)
	}
	if got := cpuPercent(cur, cur); got != 0 {
		t.Errorf("no time passed: %v", got)
	}
}

func inspectWith(runtime string, env []string, reqs ...container.DeviceRequest) container.InspectResponse {
	return container.InspectResponse{
		ContainerJSONBase: &container.ContainerJSONBase{HostConfig: &container.HostConfig{
			Runtime:   runtime,
			Resources: container.Resources{DeviceRequests: reqs},
		}},
		Config: &container.Config{Env: env},
	}
}

func TestGPUDevices(t *testing.T) {
	gpu := [][]string{{"gpu"}}
	tests := []struct {
		name    string
		info    container.InspectResponse
		ids     string
		devices string
	}{
		{"recorded --gpus device=0,1", load[container.InspectResponse](t, "inspect-"+trainID+".json"), "[0 1]", "[0,1]"},
		{"recorded nvidia runtime env", load[container.InspectResponse](t, "inspect-"+jupyterID+".json"), "[2 3]", "[2,3]"},
		{"recorded no gpu", load[container.InspectResponse](t, "inspect-"+webID+".json"), "[]", ""},
		{"--gpus all", inspectWith("runc", nil, container.DeviceRequest{Count: -1, Capabilities: gpu}), "[]", "all"},
		{"--gpus 2", inspectWith("runc", nil, container.DeviceRequest{Driver: "nvidia", Count: 2}), "[0 1]", "[0,1]"},
		{"by uuid", inspectWith("runc", nil, container.DeviceRequest{DeviceIDs: []string{"GPU-8f6c"}, Capabilities: gpu}), "[]", `["GPU-8f6c"]`},
		{"other cdi device", inspectWith("runc", nil, container.DeviceRequest{Driver: "cdi", DeviceIDs: []string{"vendor.com/fpga=0"}}), "[]", ""},
		{"cdi gpus", inspectWith("runc", nil, container.DeviceRequest{Driver: "cdi", DeviceIDs: []string{"nvidia.com/gpu=1", "nvidia.com/gpu=3"}}), "[1 3]", "[1,3]"},
		{"cdi all", inspectWith("runc", nil, container.DeviceRequest{Driver: "cdi", DeviceIDs: []string{"nvidia.com/gpu=all"}}), "[]", "all"},
		{"nvidia runtime all", inspectWith("nvidia", []string{"NVIDIA_VISIBLE_DEVICES=all"}), "[]", "all"},
		{"nvidia runtime none", inspectWith("nvidia", []string{"NVIDIA_VISIBLE_DEVICES=none"}), "[]", ""},
		{"cuda image env without nvidia runtime", inspectWith("runc", []string{"NVIDIA_VISIBLE_DEVICES=all"}), "[]", ""},
		{"nothing inspected", container.InspectResponse{}, "[]", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, devices := gpuDevices(tt.info)
			if got := fmt.Sprint(append([]int32{}, ids...)); got != tt.ids || devices != tt.devices {
				t.Errorf("gpuDevices = %s %q, want %s %q", got, devices, tt.ids, tt.devices)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	if err := classify(fmt.Errorf("dial: %w", fs.ErrPermission)); !errors.Is(err, collect.ErrUnavailable) {
		t.Errorf("permission denied: %v", err)
	}
	if err := classify(errors.New("context deadline exceeded")); errors.Is(err, collect.ErrUnavailable) {
		t.Errorf("timeout marked unavailable: %v", err)
	}
}
