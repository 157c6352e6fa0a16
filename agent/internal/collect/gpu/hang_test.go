package gpu

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/gpumon/gpumon/agent/internal/collect"
)

// A GPU whose driver calls hang does not hold back the others: it is
// reported errored on time, left alone while its read still hangs, and read
// again once the driver answers.
func TestHungGPUDoesNotDelayOthers(t *testing.T) {
	devs := fakeDevices(3)
	release := make(chan struct{})
	var calls atomic.Int32
	devs[1].GetTemperatureFunc = func(nvml.TemperatureSensors) (uint32, nvml.Return) {
		calls.Add(1)
		<-release
		return 50, nvml.SUCCESS
	}
	c := New(fakeLib(devs...), nil)
	defer func() { close(release); time.Sleep(50 * time.Millisecond); c.Close() }()

	// GPU 1's call does not return until the test releases it, so Collect
	// returning at all shows it did not wait for it.
	collectOnce := func() (*collect.Sample, error) {
		var s collect.Sample
		err := c.Collect(context.Background(), &s)
		return &s, err
	}
	s, err := collectOnce()
	if err == nil || len(s.GPUs) != 3 {
		t.Fatalf("err %v, %d GPUs", err, len(s.GPUs))
	}
	if !strings.Contains(s.GPUs[1].GetError(), "no answer from the driver") {
		t.Errorf("hung GPU error = %q", s.GPUs[1].GetError())
	}
	for _, i := range []int{0, 2} {
		if s.GPUs[i].GetError() != "" || s.GPUs[i].GetTemperature() != 45 {
			t.Errorf("GPU %d = %v, want a normal reading", i, s.GPUs[i])
		}
	}

	s, _ = collectOnce()
	if calls.Load() != 1 || !strings.Contains(s.GPUs[1].GetError(), "still waiting") {
		t.Errorf("second collect: %d calls into the hung GPU, error %q (it must not be called or waited for again)", calls.Load(), s.GPUs[1].GetError())
	}

	devs[1].GetTemperatureFunc = func(nvml.TemperatureSensors) (uint32, nvml.Return) { return 51, nvml.SUCCESS }
	release <- struct{}{} // the driver answers the old call
	waitUntil(t, func() bool {
		s, _ := collectOnce()
		return s.GPUs[1].GetError() == "" && s.GPUs[1].GetTemperature() == 51
	})
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
