package history

import (
	"sort"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// Accounting thresholds.
const (
	// IdleMaxUtilization: a GPU at or below this utilisation does no work.
	IdleMaxUtilization = 5
	// IdleMinMemory: a GPU holding at least this much memory (MiB) is held.
	IdleMinMemory = 1024
)

// machineState is what accounting remembers of one machine between samples.
type machineState struct {
	mu        sync.Mutex
	last      time.Time
	userSecs  map[string]*userAcc
	busySecs  float64
	idleSince map[int32]time.Time
	idle      map[int32]*gpumonv1.IdleGpu
}

type userAcc struct {
	gpuSecs, memSecs float64
	active           bool
}

func newMachineState() *machineState {
	return &machineState{userSecs: map[string]*userAcc{}, idleSince: map[int32]time.Time{}, idle: map[int32]*gpumonv1.IdleGpu{}}
}

// account updates the machine's counters with a sample taken at t and
// returns the samples for users, containers, counters and idle GPUs.
func (ms *machineState) account(out []sample, base []labels.Label, key string, r *gpumonv1.Report, t time.Time, interval time.Duration) []sample {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	dt := 0.0
	if !ms.last.IsZero() && t.After(ms.last) {
		dt = min(t.Sub(ms.last), 3*max(interval, time.Second)).Seconds()
	}
	if t.After(ms.last) {
		ms.last = t
	}
	gpus, mem, busy := usersOf(r)
	ms.busySecs += float64(busy) * dt
	out = append(out, sample{series(MachineGPUSecs, base), ms.busySecs})
	for user, acc := range ms.userSecs {
		if _, ok := gpus[user]; !ok && acc.active {
			acc.active = false
			ul := labels.Label{Name: "user", Value: user}
			out = append(out, sample{series(UserGPUs, base, ul), 0}, sample{series(UserGPUMemory, base, ul), 0},
				sample{series(UserGPUSecs, base, ul), acc.gpuSecs}, sample{series(UserGPUMemSecs, base, ul), acc.memSecs})
		}
	}
	for user, n := range gpus {
		acc := ms.userSecs[user]
		if acc == nil {
			acc = &userAcc{}
			ms.userSecs[user] = acc
		}
		if acc.active {
			acc.gpuSecs += float64(n) * dt
			acc.memSecs += mem[user] * dt
		}
		acc.active = true
		ul := labels.Label{Name: "user", Value: user}
		out = append(out, sample{series(UserGPUs, base, ul), float64(n)}, sample{series(UserGPUMemory, base, ul), mem[user]},
			sample{series(UserGPUSecs, base, ul), acc.gpuSecs}, sample{series(UserGPUMemSecs, base, ul), acc.memSecs})
	}
	for c, v := range containersOf(r) {
		out = append(out, sample{series(ContainerGPUMem, base, labels.Label{Name: "container", Value: c}), v})
	}
	return ms.trackIdle(out, base, key, r, t)
}

// trackIdle follows how long each GPU has been held while idle.
func (ms *machineState) trackIdle(out []sample, base []labels.Label, key string, r *gpumonv1.Report, t time.Time) []sample {
	seen := map[int32]bool{}
	for _, g := range r.GetGpuData() {
		seen[g.GetId()] = true
		held := g.Utilization != nil && g.GetUtilization() <= IdleMaxUtilization &&
			g.GetMemoryUsed() >= IdleMinMemory && len(g.GetProcesses()) > 0 && g.GetError() == ""
		secs := 0.0
		if held {
			since, ok := ms.idleSince[g.GetId()]
			if !ok {
				since = t
				ms.idleSince[g.GetId()] = t
			}
			secs = t.Sub(since).Seconds()
			ms.idle[g.GetId()] = idleGPU(key, r.GetHostname(), g, since, secs)
		} else {
			delete(ms.idleSince, g.GetId())
			delete(ms.idle, g.GetId())
		}
		gl := []labels.Label{{Name: "gpu", Value: itoa(g.GetId())}, {Name: "UUID", Value: g.GetUuid()}, {Name: "modelName", Value: g.GetName()}}
		out = append(out, sample{series(GPUIdleHeld, base, gl...), secs})
	}
	for id := range ms.idle {
		if !seen[id] {
			delete(ms.idle, id)
			delete(ms.idleSince, id)
		}
	}
	return out
}

func idleGPU(key, host string, g *gpumonv1.Gpu, since time.Time, secs float64) *gpumonv1.IdleGpu {
	users := map[string]bool{}
	for _, p := range g.GetProcesses() {
		if p.GetUsername() != "" {
			users[p.GetUsername()] = true
		}
	}
	ig := &gpumonv1.IdleGpu{Machine: key, Hostname: host, Index: g.GetId(), Uuid: g.GetUuid(), Name: g.GetName(),
		MemoryUsed: g.GetMemoryUsed(), Since: timestamp(since), IdleSeconds: secs}
	for u := range users {
		ig.Users = append(ig.Users, u)
	}
	sort.Strings(ig.Users)
	return ig
}

// usersOf counts, per user, the GPUs holding one of their processes and the
// GPU memory (MiB) they hold, and the GPUs with any process.
func usersOf(r *gpumonv1.Report) (gpus map[string]int, mem map[string]float64, busy int) {
	gpus, mem = map[string]int{}, map[string]float64{}
	for _, g := range r.GetGpuData() {
		if len(g.GetProcesses()) > 0 {
			busy++
		}
		on := map[string]bool{}
		for _, p := range g.GetProcesses() {
			u := p.GetUsername()
			if u == "" {
				u = "unknown"
			}
			mem[u] += float64(p.GetGpuMemoryUsage())
			on[u] = true
		}
		for u := range on {
			gpus[u]++
		}
	}
	return gpus, mem, busy
}

// containersOf sums GPU memory per container.
func containersOf(r *gpumonv1.Report) map[string]float64 {
	out := map[string]float64{}
	for _, p := range r.GetSystemInfo().GetProcesses() {
		if p.GetIsGpuProcess() && p.GetContainerId() != "" {
			out[p.GetContainerId()] += float64(p.GetGpuMemoryUsage())
		}
	}
	return out
}
