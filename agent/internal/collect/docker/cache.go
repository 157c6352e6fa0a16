package docker

import (
	"cmp"
	"slices"
	"strings"
	"sync"

	"github.com/docker/docker/api/types/container"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// entry is what is known about one running container.
type entry struct {
	id, name, status, state, image string

	inspected  bool
	gpuIDs     []int32
	gpuDevices string

	cpuPercent  float64
	memUsage    float64
	memLimit    float64
	prevCPU     container.CPUStats
	havePrevCPU bool
}

// cache holds the containers between the background refresh and Collect.
type cache struct {
	mu   sync.Mutex
	byID map[string]*entry // by full id
	err  error             // of the last list call
}

func (c *cache) setErr(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.err = err
}

// setList replaces the container list, keeping what is known about
// containers still running, and returns the ids still to inspect.
func (c *cache) setList(list []container.Summary) (inspect []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	byID := make(map[string]*entry, len(list))
	for _, s := range list {
		e := c.byID[s.ID]
		if e == nil {
			e = &entry{id: s.ID}
		}
		e.name = containerName(s.Names)
		e.status, e.state, e.image = s.Status, string(s.State), s.Image
		byID[s.ID] = e
		if !e.inspected {
			inspect = append(inspect, s.ID)
		}
	}
	c.byID, c.err = byID, nil
	return inspect
}

// setGPUs records the GPU devices found by inspecting a container.
func (c *cache) setGPUs(id string, ids []int32, devices string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.byID[id]; e != nil {
		e.inspected, e.gpuIDs, e.gpuDevices = true, ids, devices
	}
}

// setStats records a stats reading. When the daemon sent no previous CPU
// reading, the one from the last refresh stands in for it.
func (c *cache) setStats(id string, st *container.StatsResponse) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.byID[id]
	if e == nil {
		return // gone meanwhile
	}
	pre := st.PreCPUStats
	if pre.SystemUsage == 0 && e.havePrevCPU {
		pre = e.prevCPU
	}
	e.cpuPercent = cpuPercent(pre, st.CPUStats)
	e.memUsage = memUsage(st.MemoryStats)
	e.memLimit = float64(st.MemoryStats.Limit)
	e.prevCPU, e.havePrevCPU = st.CPUStats, true
}

// ids returns the ids of the listed containers.
func (c *cache) ids() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := make([]string, 0, len(c.byID))
	for id := range c.byID {
		ids = append(ids, id)
	}
	return ids
}

// report returns fresh report messages for the listed containers, sorted
// by name, and the error of the last list call.
func (c *cache) report() ([]*gpumonv1.DockerContainer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*gpumonv1.DockerContainer, 0, len(c.byID))
	for _, e := range c.byID {
		out = append(out, &gpumonv1.DockerContainer{
			Id:          shortID(e.id),
			Name:        e.name,
			Status:      e.status,
			State:       e.state,
			Image:       e.image,
			MemoryUsage: e.memUsage,
			MemoryLimit: e.memLimit,
			CpuPercent:  e.cpuPercent,
			GpuIds:      slices.Clone(e.gpuIDs),
			GpuDevices:  e.gpuDevices,
		})
	}
	slices.SortFunc(out, func(a, b *gpumonv1.DockerContainer) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Id, b.Id))
	})
	return out, c.err
}

// containerName is the first name without its leading slash.
func containerName(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return strings.ToValidUTF8(strings.TrimPrefix(names[0], "/"), "\uFFFD")
}

// shortID is the 12-character id docker ps prints.
func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
