package history

import (
	"context"
	"testing"
	"time"

	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// TestMachineUp: gpumon_machine_up follows the hub's clock, not the
// machine's samples: it stays 0 while the machine is offline, long after
// its own series ended, it never takes the machine's staleness markers (and
// so never refuses a sample), replays that come after it are recorded at
// their own times, and it ends when the machine is forgotten.
func TestMachineUp(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	f := fleet.New(nil)
	m := testMachine(t, f, "n1")
	now := time.Now().Truncate(time.Second)
	for i := range 3 {
		if err := s.Record(m, gpuReport(now.Add(time.Duration(i-3)*time.Second), 10), uint64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	s.RecordUp(m, true, now.Add(-time.Second))
	f.Detach(m, m.Conn())
	s.MarkOffline(m)
	s.RecordUp(m, false, now)
	s.RecordUp(m, false, now) // the same time again: 1 ms later
	up := func(at time.Time) []float64 {
		t.Helper()
		res, err := s.Instant(context.Background(), `gpumon_machine_up{machine="n1"}`, at)
		if err != nil {
			t.Fatal(err)
		}
		var out []float64
		for _, r := range res {
			out = append(out, r.Points[0].Value)
		}
		return out
	}
	if got := up(now.Add(-time.Second)); len(got) != 1 || got[0] != 1 {
		t.Errorf("up while online = %v, want 1", got)
	}
	if got := up(now.Add(time.Second)); len(got) != 1 || got[0] != 0 {
		t.Errorf("up once offline = %v, want 0", got)
	}
	// A replay of what the agent buffered lands at its own time: up is not
	// one of the machine's series, so it does not move the machine on.
	if err := s.Record(m, gpuReport(now.Add(-500*time.Millisecond), 10), 4); err != nil {
		t.Fatal(err)
	}
	if got := seqTimes(t, s, now); got[4] != now.Add(-500*time.Millisecond).UnixMilli() {
		t.Errorf("replayed seq 4 at %d, want its own time %d", got[4], now.Add(-500*time.Millisecond).UnixMilli())
	}
	s.RecordUp(m, false, now.Add(10*time.Minute)) // still offline, long after its series went stale
	if got := up(now.Add(10 * time.Minute)); len(got) != 1 || got[0] != 0 {
		t.Errorf("up 10 minutes later = %v, want 0", got)
	}
	s.Forget(m)
	if s.Failed() != 0 {
		t.Errorf("%d samples refused", s.Failed())
	}
}
