package history

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/gpumon/gpumon/common/metricset"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// TestKeptSeriesAcrossSnapshots: with series and their references kept per
// machine, every sample still lands in its own series (two machines, users
// and containers that come and go, the store reopened between), and a
// machine whose containers keep changing does not keep their series for
// ever.
func TestKeptSeriesAcrossSnapshots(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	f := fleet.New(nil)
	a, b := testMachine(t, f, "a"), testMachine(t, f, "b")
	base := time.Now().Add(-30 * time.Minute).Truncate(time.Second)
	n := keepSnapshots * 3
	for i := range n {
		at := base.Add(time.Duration(i) * time.Second)
		for j, m := range []*fleet.Machine{a, b} {
			r := gpuReport(at, uint32((i+j)%100))
			r.SystemInfo.CpuPercent = float64(i*10 + j) // which machine, which snapshot
			// A new container every snapshot.
			r.SystemInfo.Processes = []*gpumonv1.Process{{Pid: 10, IsGpuProcess: true, GpuMemoryUsage: 5, ContainerId: fmt.Sprintf("c%d", i)}}
			if err := s.Record(m, r, uint64(i+1)); err != nil {
				t.Fatal(err)
			}
		}
		if i == n/2 {
			if err := s.reopen(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for j, key := range []string{"a", "b"} {
		i := 0
		s.each(0, math.MaxInt64, func(ts int64, v float64) {
			if want := float64(i*10 + j); v != want || ts != base.Add(time.Duration(i)*time.Second).UnixMilli() {
				t.Fatalf("%s: sample %d is %v at %d, want %v at its own time", key, i, v, ts, want)
			}
			i++
		}, labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, MachineCPU), labels.MustNewMatcher(labels.MatchEqual, "machine", key))
		if i != n {
			t.Errorf("%s: %d CPU samples, want %d", key, i, n)
		}
		containers := 0
		s.each(0, math.MaxInt64, func(int64, float64) { containers++ },
			labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, ContainerGPUMem), labels.MustNewMatcher(labels.MatchEqual, "machine", key))
		if containers != n {
			t.Errorf("%s: %d container samples, want %d", key, containers, n)
		}
	}
	ms := s.machine("a")
	// Each snapshot has ~40 series of its own and one new container's.
	if got := ms.series.len(); got > 2*keepSnapshots+100 {
		t.Errorf("%d series kept after %d snapshots: containers gone long ago are still kept", got, n)
	}
	s.Forget(a)
	if _, kept := s.machines.Load("a"); kept {
		t.Error("a forgotten machine's series are still kept")
	}
}

// TestSeriesCacheGuessesByPlace: the series asked for at the same place in
// the last snapshot is taken only when it is the one asked for (name and
// every label); otherwise the right series is found, or made, all the same.
func TestSeriesCacheGuessesByPlace(t *testing.T) {
	c := newSeriesCache("m", "m")
	gpu := func(i, uuid string) []metricset.Label {
		return []metricset.Label{{Name: "gpu", Value: i}, {Name: "UUID", Value: uuid}}
	}
	ask := func(name string, l []metricset.Label) labels.Labels { return c.sample(name, l, 1).lset }
	want := func(name string, l []metricset.Label) labels.Labels { return series(name, c.base, toLabels(nil, l)...) }
	first := [][2]any{{GPUUtil, gpu("0", "GPU-a")}, {GPUUtil, gpu("1", "GPU-b")}, {GPUTemp, gpu("0", "GPU-a")}}
	for _, s := range first {
		ask(s[0].(string), s[1].([]metricset.Label))
	}
	c.done()
	for _, tc := range [][2]any{
		{GPUUtil, gpu("1", "GPU-b")},  // the second one first
		{GPUUtil, gpu("1", "GPU-c")},  // same place, another UUID
		{GPUPower, gpu("0", "GPU-a")}, // same place and labels, another name
		{GPUUtil, gpu("0", "GPU-a")},
	} {
		name, l := tc[0].(string), tc[1].([]metricset.Label)
		if got := ask(name, l); !labels.Equal(got, want(name, l)) {
			t.Errorf("asked %s%v, got %s", name, l, got)
		}
	}
	c.done()
	if got := c.len(); got != 5 {
		t.Errorf("%d series kept, want 5", got)
	}
}

// TestSeriesCacheGuessesKeepNothingAlive: series dropped for want of use
// are not kept alive by the buffers of the guesses, even after one
// snapshot asked for many more series than the later ones.
func TestSeriesCacheGuessesKeepNothingAlive(t *testing.T) {
	c := newSeriesCache("k", "h")
	for i := range 1000 {
		c.sample(UserGPUMemory, []metricset.Label{{Name: "user", Value: fmt.Sprintf("u%d", i)}}, 1)
	}
	c.done()
	for range 3 * keepSnapshots {
		c.sample(MachineOnline, nil, 1)
		c.done()
	}
	kept := map[*keptSeries]bool{}
	for _, list := range c.byHash {
		for _, k := range list {
			kept[k] = true
		}
	}
	held := 0
	for _, buf := range [][]*keptSeries{c.last[:cap(c.last)], c.this[:cap(c.this)]} {
		for _, k := range buf {
			if k != nil && !kept[k] {
				held++
			}
		}
	}
	if held > 0 {
		t.Errorf("%d series dropped %d snapshots ago are still held by the guesses' buffers", held, 3*keepSnapshots)
	}
	if n := cap(c.last) + cap(c.this); n > 200 {
		t.Errorf("the guesses' buffers hold room for %d series, for snapshots of one", n)
	}
}

// TestPooledSamplesHoldNothing: a buffer of samples given back to the pool
// holds no series (whatever it grew to), and one grown past the bound is
// not kept.
func TestPooledSamplesHoldNothing(t *testing.T) {
	c := newSeriesCache("k", "h")
	b := getSamples(4)
	for i := range 100 {
		*b = append(*b, c.sample(UserGPUMemory, []metricset.Label{{Name: "user", Value: fmt.Sprintf("u%d", i)}}, 1))
	}
	putSamples(b)
	if len(*b) != 0 {
		t.Errorf("a buffer given back has length %d, want 0", len(*b))
	}
	for i, s := range (*b)[:cap(*b)] {
		if s.kept != nil || s.lset.Len() != 0 {
			t.Fatalf("a buffer given back still holds sample %d: %v", i, s.lset)
		}
	}
	big := make([]sample, maxPooledSamples+1)
	big[0] = c.sample(MachineOnline, nil, 1)
	bb := &big
	putSamples(bb)
	if (*bb)[0].kept == nil {
		t.Error("a buffer past the bound was cleared, as if the pool took it")
	}
}
