package fleet

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestFleet() (*Fleet, *clock) {
	c := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	f := New(nil)
	f.now = c.now
	return f, c
}

func hello(host, id string, epoch uint64) Hello {
	return Hello{
		Hello:    &gpumonv1.Hello{Hostname: host, MachineId: id, Epoch: epoch, Inventory: &gpumonv1.Inventory{Gpus: []*gpumonv1.GpuInfo{{Id: 0, Name: "H100", MemoryTotal: 80000}}}},
		Interval: 2 * time.Second,
		Conn:     NewAgentConn(false),
	}
}

func report(at time.Time, used uint32) *gpumonv1.Report {
	return &gpumonv1.Report{Timestamp: timestamppb.New(at), GpuData: []*gpumonv1.Gpu{{Id: 0, MemoryUsed: used}}}
}

func TestIngestDedupAndReplayOrder(t *testing.T) {
	f, c := newTestFleet()
	m, w := f.Attach(hello("gpu1", "id-1", 7))
	if last := w.LastSeq; last != 0 {
		t.Fatalf("last seq of a new epoch = %d", last)
	}
	t0 := c.t
	if got := f.Ingest(m, 1, report(t0, 10)); got != Current {
		t.Fatalf("first ingest = %v", got)
	}
	f.Acked(m, 1)
	if got := f.Ingest(m, 1, report(t0, 10)); got != Duplicate {
		t.Errorf("same seq again = %v, want Duplicate", got)
	}
	if got := f.Ingest(m, 3, report(t0.Add(4*time.Second), 30)); got != Current {
		t.Errorf("newer = %v", got)
	}
	// seq 2 arrives late (replayed, as after the history store failed): it
	// is not acknowledged yet, so history only; the newer sample stays current.
	if got := f.Ingest(m, 2, report(t0.Add(2*time.Second), 20)); got != Older {
		t.Errorf("seq 2 after seq 3 = %v, want Older", got)
	}
	f.Acked(m, 3)
	if got := f.Ingest(m, 2, report(t0.Add(2*time.Second), 20)); got != Duplicate {
		t.Errorf("seq 2 after seq 3 was acknowledged = %v, want Duplicate", got)
	}
	st := m.State()
	if st.LastSeq != 3 || st.Report.GetGpuData()[0].GetMemoryUsed() != 30 {
		t.Errorf("state = seq %d used %d", st.LastSeq, st.Report.GetGpuData()[0].GetMemoryUsed())
	}
	if g := m.Rendered().GetGpuData()[0]; g.GetName() != "H100" || g.GetMemoryTotal() != 80000 {
		t.Errorf("static facts not filled in from the inventory: %v", g)
	}
	// A reconnect in the same epoch is told the last seq; a new epoch starts over.
	f.Detach(m, m.Conn())
	if _, w := f.Attach(hello("gpu1", "id-1", 7)); w.LastSeq != 3 {
		t.Errorf("same epoch: last seq %d, want 3", w.LastSeq)
	}
	if _, w := f.Attach(hello("gpu1", "id-1", 8)); w.LastSeq != 0 {
		t.Errorf("new epoch: last seq %d, want 0", w.LastSeq)
	}
}

// An agent clock stepped back: the newer sequence number is current and
// the machine stays online, whatever its sample time says.
func TestClockSteppedBackStaysCurrent(t *testing.T) {
	f, c := newTestFleet()
	m, _ := f.Attach(hello("gpu1", "id-1", 1))
	f.Ingest(m, 1, report(c.t.Add(20*time.Second), 10))
	c.advance(12 * time.Second)
	if got := f.Ingest(m, 2, report(c.t.Add(-time.Minute), 99)); got != Current {
		t.Fatalf("ingest of a newer snapshot stamped earlier = %v, want Current", got)
	}
	f.Sweep()
	st := m.State()
	if used := st.Report.GetGpuData()[0].GetMemoryUsed(); used != 99 || !st.Online || !st.LastSeen.Equal(c.t) {
		t.Errorf("used %d, online %v, last seen %v (now %v)", used, st.Online, st.LastSeen, c.t)
	}
}

func TestOnlineOffline(t *testing.T) {
	f, c := newTestFleet()
	sub := f.Events().Subscribe(16)
	defer sub.Close()
	m, _ := f.Attach(hello("gpu1", "id-1", 1))
	f.Ingest(m, 1, report(c.t, 1))
	if !m.State().Online {
		t.Fatal("not online after a sample")
	}
	c.advance(9 * time.Second)
	f.Sweep()
	if !m.State().Online {
		t.Fatal("offline after 9 s with a 2 s interval (limit is max(3×2 s, 10 s) = 10 s)")
	}
	c.advance(2 * time.Second)
	f.Sweep()
	if m.State().Online {
		t.Fatal("still online 11 s after the last sample")
	}
	f.Ingest(m, 2, report(c.t, 1))
	if !m.State().Online {
		t.Fatal("not back online after a new sample")
	}
	f.Detach(m, m.Conn())
	if m.State().Online {
		t.Error("online after its stream ended")
	}
	var statuses int
	for len(sub.C) > 0 {
		if (<-sub.C).Type == gpumonv1.WatchEventType_WATCH_EVENT_TYPE_STATUS {
			statuses++
		}
	}
	if statuses < 3 {
		t.Errorf("%d status events, want at least 3 (attach, offline, online, detach)", statuses)
	}
}

func TestHostnameConflictKeepsBoth(t *testing.T) {
	f, c := newTestFleet()
	a, _ := f.Attach(hello("gpu1", "aaaaaaaaaaaa", 1))
	b, _ := f.Attach(hello("gpu1", "bbbbbbbbbbbb", 1))
	f.Ingest(a, 1, report(c.t, 1))
	f.Ingest(b, 1, report(c.t, 2))
	if a.Key != "gpu1" || b.Key != "gpu1@"+Fingerprint("bbbbbbbbbbbb")[:8] {
		t.Fatalf("keys %q and %q", a.Key, b.Key)
	}
	if !a.State().Conflict || !b.State().Conflict || len(f.List()) != 2 {
		t.Fatalf("conflict not visible: %v %v, %d machines", a.State().Conflict, b.State().Conflict, len(f.List()))
	}
	f.Detach(b, b.Conn())
	c.advance(time.Minute)
	f.Sweep()
	if err := f.Forget(b.Key); err != nil {
		t.Fatal(err)
	}
	if a.State().Conflict {
		t.Error("conflict still marked after the other machine was forgotten")
	}
}

func TestForgetOnlineRefused(t *testing.T) {
	f, c := newTestFleet()
	m, _ := f.Attach(hello("gpu1", "id", 1))
	f.Ingest(m, 1, report(c.t, 1))
	if err := f.Forget("gpu1"); err != ErrOnline {
		t.Errorf("Forget(online) = %v, want ErrOnline", err)
	}
	if err := f.Forget("nope"); err != ErrNotFound {
		t.Errorf("Forget(unknown) = %v, want ErrNotFound", err)
	}
}

func TestExportRestore(t *testing.T) {
	f, c := newTestFleet()
	m, _ := f.Attach(hello("gpu1", "id", 5))
	f.Ingest(m, 4, report(c.t, 1))
	f.Acked(m, 4)
	// Seen but not in history: the registry must not claim it.
	f.Ingest(m, 5, report(c.t.Add(time.Second), 1))
	g, _ := newTestFleet()
	g.Restore(f.Export())
	r, ok := g.Get("gpu1")
	if !ok || r.State().Online || r.State().LastSeq != 4 || r.State().Epoch != 5 {
		t.Fatalf("restored machine: ok=%v state=%+v", ok, r.State())
	}
}

// Rendered sets is_online on a copy: the published report is not changed,
// and every other field is the same.
func TestRenderedLeavesStateAlone(t *testing.T) {
	f, c := newTestFleet()
	m, _ := f.Attach(hello("gpu1", "id", 1))
	rep := report(c.t, 5)
	rep.SystemInfo = &gpumonv1.SystemInfo{Processes: []*gpumonv1.Process{{Pid: 7, Name: "python"}}}
	f.Ingest(m, 1, rep)
	r := m.Rendered()
	if !r.GetIsOnline() || m.State().Report.GetIsOnline() {
		t.Fatalf("rendered is_online %v, state's %v", r.GetIsOnline(), m.State().Report.GetIsOnline())
	}
	want := proto.Clone(m.State().Report).(*gpumonv1.Report)
	want.IsOnline = true
	if !proto.Equal(r, want) {
		t.Errorf("rendered %v, want %v", r, want)
	}
}

func TestCutWarningDueOncePerTenMinutes(t *testing.T) {
	m := &Machine{Key: "h"}
	now := time.Now()
	for _, c := range []struct {
		at   time.Duration
		want bool
	}{{0, true}, {time.Second, false}, {9 * time.Minute, false}, {10 * time.Minute, true}, {11 * time.Minute, false}} {
		if got := m.CutWarningDue(now.Add(c.at)); got != c.want {
			t.Errorf("at +%s: due %v, want %v", c.at, got, c.want)
		}
	}
}
