package history

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// forwarded records what remote write would send.
type forwarded struct{ last map[string]int64 }

func (f *forwarded) add(t *testing.T) func(labels.Labels, int64, float64) {
	f.last = map[string]int64{}
	return func(l labels.Labels, ts int64, _ float64) {
		if prev, ok := f.last[l.String()]; ok && ts <= prev {
			t.Errorf("%s forwarded at %d after %d", l, ts, prev)
		}
		f.last[l.String()] = ts
	}
}

func seqTimes(t *testing.T, s *Store, at time.Time) map[float64]int64 {
	t.Helper()
	out := map[float64]int64{}
	s.each(0, math.MaxInt64, func(ts int64, v float64) {
		if _, dup := out[v]; dup {
			t.Errorf("seq %v stored twice", v)
		}
		out[v] = ts
	}, labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, AgentSeq))
	return out
}

func TestRecordedTimesOnlyMoveForward(t *testing.T) {
	var fw forwarded
	s, err := Open(t.TempDir(), Options{Forward: fw.add(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m := testMachine(t, fleet.New(nil), "n1")
	record := func(at time.Time, seq uint64) {
		t.Helper()
		if err := s.Record(m, gpuReport(at, 10), seq); err != nil {
			t.Fatal(err)
		}
	}
	record(t0, 1)
	record(t0.Add(10*time.Second), 2)
	record(t0.Add(2*time.Second), 3)  // the agent's clock stepped back
	record(t0.Add(10*time.Second), 2) // a snapshot history holds, sent again
	record(t0.Add(12*time.Second), 4)

	got := seqTimes(t, s, t0)
	want := map[float64]int64{
		1: t0.UnixMilli(), 2: t0.Add(10 * time.Second).UnixMilli(),
		3: t0.Add(10*time.Second).UnixMilli() + 1, 4: t0.Add(12 * time.Second).UnixMilli(),
	}
	if len(got) != len(want) {
		t.Fatalf("stored seqs %v, want %v", got, want)
	}
	for seq, ts := range want {
		if got[seq] != ts {
			t.Errorf("seq %v at %d, want %d", seq, got[seq], ts)
		}
	}
	if s.Failed() != 0 {
		t.Errorf("%d samples refused", s.Failed())
	}
}

// After a reopen (a restart) the newest recorded time is read back: a
// replay of what history holds is skipped, not stored again 1 ms later.
func TestReplayAfterReopenIsNotStoredTwice(t *testing.T) {
	dir := t.TempDir()
	base := time.Now().Add(-time.Minute).Truncate(time.Second) // within the floor's horizon
	s := openStore(t, dir)
	m := testMachine(t, fleet.New(nil), "n1")
	for i := range 5 {
		s.Record(m, gpuReport(base.Add(time.Duration(i)*time.Second), 10), uint64(i+1))
	}
	s.Close()
	s = openStore(t, dir)
	defer s.Close()
	for i := 2; i < 7; i++ { // 3..5 again, then 6 and 7
		if err := s.Record(m, gpuReport(base.Add(time.Duration(i)*time.Second), 10), uint64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if got := seqTimes(t, s, base); len(got) != 7 || got[7] != base.Add(6*time.Second).UnixMilli() {
		t.Errorf("stored %v, want seqs 1..7 once each at their own times", got)
	}
}

// An offline machine's series end 1 ms after its last sample; a replay
// after it reconnects lands after the markers and is counted again.
func TestOfflineMarkersFollowTheLastSample(t *testing.T) {
	var fw forwarded
	s, err := Open(t.TempDir(), Options{Forward: fw.add(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f := fleet.New(nil)
	m := testMachine(t, f, "n1")
	now := time.Now().Truncate(time.Second)
	for i := range 3 {
		s.Record(m, gpuReport(now.Add(time.Duration(i-3)*time.Second), 10), uint64(i+1))
	}
	s.MarkOffline(m) // still online: no markers
	f.Detach(m, m.Conn())
	s.MarkOffline(m)
	count := func(at time.Time) int {
		res, err := s.Instant(context.Background(), `count(DCGM_FI_DEV_GPU_UTIL)`, at)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) == 0 {
			return 0
		}
		return int(res[0].Points[0].Value)
	}
	last := now.Add(-time.Second)
	if n := count(last); n != 2 {
		t.Fatalf("%d GPUs counted at the last sample, want 2", n)
	}
	if n := count(last.Add(2 * time.Millisecond)); n != 0 {
		t.Errorf("%d GPUs counted after the markers, want 0", n)
	}
	res, _ := s.Instant(context.Background(), `gpumon_machine_online{machine="n1"}`, last.Add(time.Second))
	if len(res) != 1 || res[0].Points[0].Value != 0 {
		t.Errorf("online series after going offline = %v, want 0", res)
	}
	// The agent reconnects and replays what it buffered meanwhile.
	s.Record(m, gpuReport(now, 10), 4)
	if n := count(now); n != 2 {
		t.Errorf("%d GPUs counted after the replay, want 2", n)
	}
	s.Forget(m)
	if res, _ := s.Instant(context.Background(), `{machine="n1"}`, now.Add(time.Second)); len(res) != 0 {
		t.Errorf("series of a forgotten machine still answer: %v", res)
	}
	if s.Failed() != 0 {
		t.Errorf("%d samples refused", s.Failed())
	}
}
