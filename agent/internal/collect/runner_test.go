package collect

import (
	"context"
	"errors"
	"testing"
	"time"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

type fakeCollector struct {
	name string
	fn   func(ctx context.Context, s *Sample) error
}

func (f fakeCollector) Name() string                                 { return f.name }
func (f fakeCollector) Collect(ctx context.Context, s *Sample) error { return f.fn(ctx, s) }

func TestRunnerHungSourceDoesNotDelaySample(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	gpus := fakeCollector{"gpu", func(_ context.Context, s *Sample) error {
		s.GPUs = []*gpumonv1.Gpu{{Id: 0, Name: "H100"}}
		s.GPUProcesses = []GPUProcess{{PID: 7, GPU: 0, UsedMemory: 100}}
		return nil
	}}
	procs := fakeCollector{"process", func(_ context.Context, s *Sample) error {
		s.Processes = []*gpumonv1.Process{{Pid: 7, Name: "python", ContainerId: "abc"}}
		return nil
	}}
	// A daemon that never answers and a collector that ignores its ctx.
	docker := fakeCollector{"docker", func(context.Context, *Sample) error { <-hang; return nil }}
	none := fakeCollector{"screen", func(context.Context, *Sample) error { return errors.Join(ErrUnavailable, errors.New("no screen")) }}
	r := NewRunner(nil, 200*time.Millisecond, gpus, procs, docker, none)

	// The docker collector never returns while the test runs, so Collect
	// returning at all shows it did not wait for it (how long it took is a
	// figure for a benchmark, not a bound a busy machine can promise).
	rep := r.Collect(context.Background())
	if len(rep.GetGpuData()) != 1 || len(rep.GetGpuData()[0].GetProcesses()) != 1 {
		t.Fatalf("GPU part missing: %v", rep.GetGpuData())
	}
	p := rep.GetSystemInfo().GetProcesses()[0]
	if !p.GetIsGpuProcess() || p.GetGpuMemoryUsage() != 100 || p.GetGpuId() != 0 {
		t.Errorf("GPU process not merged into the process list: %v", p)
	}
	states := map[string]gpumonv1.CollectorState{}
	for _, st := range rep.GetCollectors() {
		states[st.GetName()] = st.GetState()
	}
	want := map[string]gpumonv1.CollectorState{
		"gpu": gpumonv1.CollectorState_COLLECTOR_STATE_OK, "process": gpumonv1.CollectorState_COLLECTOR_STATE_OK,
		"docker": gpumonv1.CollectorState_COLLECTOR_STATE_TIMEOUT, "screen": gpumonv1.CollectorState_COLLECTOR_STATE_UNAVAILABLE,
	}
	for k, v := range want {
		if states[k] != v {
			t.Errorf("%s: %v, want %v", k, states[k], v)
		}
	}
	// The next sample skips the collector whose run still hangs, without
	// starting it again or waiting out its timeout.
	rep = r.Collect(context.Background())
	for _, st := range rep.GetCollectors() {
		if st.GetName() == "docker" && st.GetMessage() != "previous run has not finished" {
			t.Errorf("docker status = %v", st)
		}
	}
}

func TestMergeJoinsContainersAndMultiGPUProcesses(t *testing.T) {
	s := &Sample{
		GPUs:         []*gpumonv1.Gpu{{Id: 0}, {Id: 1}},
		GPUProcesses: []GPUProcess{{PID: 9, GPU: 1, UsedMemory: 300}, {PID: 9, GPU: 0, UsedMemory: 200}, {PID: 404, GPU: 0, UsedMemory: 1}},
		Processes:    []*gpumonv1.Process{{Pid: 9, Name: "torchrun", ContainerId: "c1"}},
		Containers:   []*gpumonv1.DockerContainer{{Id: "c1", GpuIds: []int32{0, 1}}},
	}
	rep := Merge(s)
	p := rep.GetSystemInfo().GetProcesses()[0]
	if p.GetGpuMemoryUsage() != 500 || p.GetGpuId() != 0 || len(p.GetGpuIds()) != 2 {
		t.Errorf("multi-GPU process = %v", p)
	}
	if g1 := rep.GetGpuData()[1].GetProcesses(); len(g1) != 1 || g1[0].GetGpuMemoryUsage() != 300 || g1[0].GetGpuId() != 1 {
		t.Errorf("GPU 1's list = %v (its own memory and index)", g1)
	}
	if n := len(rep.GetSystemInfo().GetProcesses()); n != 2 {
		t.Errorf("%d processes: a GPU process outside our PID namespace is listed too", n)
	}
	c := rep.GetSystemInfo().GetDockerContainers()[0]
	if c.GetGpuDevices() != "[0,1]" || len(c.GetGpuPids()) != 1 || c.GetGpuPids()[0] != 9 {
		t.Errorf("container = %v", c)
	}
}
