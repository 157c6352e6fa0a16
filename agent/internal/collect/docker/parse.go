package docker

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"
)

// cpuPercent is docker stats' CPU figure: the container's share of the
// host's CPU time between two readings, times the number of CPUs (so 100
// is one full core).
func cpuPercent(pre, cur container.CPUStats) float64 {
	cpuDelta := float64(cur.CPUUsage.TotalUsage) - float64(pre.CPUUsage.TotalUsage)
	systemDelta := float64(cur.SystemUsage) - float64(pre.SystemUsage)
	online := float64(cur.OnlineCPUs)
	if online == 0 {
		online = float64(len(cur.CPUUsage.PercpuUsage))
	}
	if systemDelta > 0 && cpuDelta > 0 {
		return cpuDelta / systemDelta * online * 100
	}
	return 0
}

// memUsage is docker stats' memory figure: usage without the page cache
// that could be dropped (total_inactive_file on cgroup v1, inactive_file
// on v2).
func memUsage(m container.MemoryStats) float64 {
	if v, v1 := m.Stats["total_inactive_file"]; v1 && v < m.Usage {
		return float64(m.Usage - v)
	}
	if v := m.Stats["inactive_file"]; v < m.Usage {
		return float64(m.Usage - v)
	}
	return float64(m.Usage)
}

// gpuDevices finds the GPUs given to a container: NVIDIA device requests
// (--gpus, or CDI names "nvidia.com/gpu=<n>") first, else NVIDIA_VISIBLE_DEVICES when the container runs with
// the nvidia runtime. It returns the indices and the gpuDevices text
// ("[0,1]"); "all" GPUs give no indices and the text "all". Devices named
// by UUID give no indices and a JSON list of the UUIDs.
func gpuDevices(info container.InspectResponse) ([]int32, string) {
	if info.ContainerJSONBase != nil && info.HostConfig != nil {
		for _, req := range info.HostConfig.DeviceRequests {
			if ids, devices, ok := cdiDevices(req); ok {
				return ids, devices
			}
			if !isGPURequest(req) {
				continue
			}
			switch {
			case len(req.DeviceIDs) > 0:
				return deviceList(req.DeviceIDs)
			case req.Count < 0:
				return nil, "all"
			case req.Count > 0:
				// Docker gives the first Count GPUs.
				ids := make([]int32, req.Count)
				for i := range ids {
					ids[i] = int32(i)
				}
				return ids, formatIDs(ids)
			}
		}
		if !strings.Contains(info.HostConfig.Runtime, "nvidia") {
			return nil, ""
		}
	}
	if info.Config == nil {
		return nil, ""
	}
	for _, kv := range info.Config.Env {
		v, ok := strings.CutPrefix(kv, "NVIDIA_VISIBLE_DEVICES=")
		if !ok {
			continue
		}
		switch v = strings.TrimSpace(v); v {
		case "", "none", "void":
			return nil, ""
		case "all":
			return nil, "all"
		}
		return deviceList(strings.Split(v, ","))
	}
	return nil, ""
}

// cdiDevices reads a CDI device request ("--device nvidia.com/gpu=0").
func cdiDevices(req container.DeviceRequest) ([]int32, string, bool) {
	if req.Driver != "cdi" {
		return nil, "", false
	}
	var devs []string
	for _, id := range req.DeviceIDs {
		if d, ok := strings.CutPrefix(id, "nvidia.com/gpu="); ok {
			if d == "all" {
				return nil, "all", true
			}
			devs = append(devs, d)
		}
	}
	if len(devs) == 0 {
		return nil, "", false
	}
	ids, devices := deviceList(devs)
	return ids, devices, true
}

// isGPURequest reports whether a device request asks for NVIDIA GPUs.
func isGPURequest(req container.DeviceRequest) bool {
	if req.Driver == "nvidia" {
		return true
	}
	for _, caps := range req.Capabilities {
		if slices.Contains(caps, "gpu") {
			return true
		}
	}
	return false
}

// deviceList turns device ids into indices when they all are numbers.
func deviceList(devs []string) ([]int32, string) {
	ids := make([]int32, 0, len(devs))
	for _, d := range devs {
		n, err := strconv.ParseInt(strings.TrimSpace(d), 10, 32)
		if err != nil {
			b, _ := json.Marshal(devs)
			return nil, string(b)
		}
		ids = append(ids, int32(n))
	}
	return ids, formatIDs(ids)
}

// formatIDs writes indices as the report's JSON list, "[0,1]".
func formatIDs(ids []int32) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(int(id)))
	}
	b.WriteByte(']')
	return b.String()
}
