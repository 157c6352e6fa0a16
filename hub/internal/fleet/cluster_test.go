package fleet

import (
	"testing"
	"time"
)

// remote is machine host as hub publishes it, with acknowledged seq.
func remote(host, hub string, seq uint64, at time.Time) Remote {
	return Remote{
		Record: Record{Key: host, Hostname: host, MachineID: "id-" + host, Report: report(at, 10), FirstSeen: at, LastSeen: at,
			Interval: 2 * time.Second, Epoch: 7, LastSeq: seq, Source: "agent", SecretHash: hashSecret("s-" + host)},
		Hub: hub, Connected: true, CanKill: true,
	}
}

func TestMirrorThenTakeOver(t *testing.T) {
	f, c := newTestFleet()
	f.SetHub("hub-a")
	fwd := NewAgentConn(true)
	fwd.Forwarded = true
	m, applied := f.Mirror(remote("gpu1", "hub-b", 40, c.t), fwd)
	st := m.State()
	switch {
	case !applied || !st.Online || st.Hub != "hub-b" || st.AckedSeq != 40 || m.Conn() != fwd || m.Held():
		t.Fatalf("mirrored: applied %v, state %+v, conn %v, held %v", applied, st, m.Conn(), m.Held())
	}
	// The agent moves here, with the secret hub-b's record carries: the
	// same machine, and it replays from what the cluster acknowledged.
	h := claim("gpu1", "id-gpu1", "s-gpu1")
	h.Epoch = 7
	got, w := f.Attach(h)
	if got != m || w.Conflict || w.LastSeq != 40 || !m.Held() || m.State().Hub != "hub-a" {
		t.Fatalf("after attach: same %v, welcome %+v, held %v, hub %q", got == m, w, m.Held(), m.State().Hub)
	}
	// A late record of the former holder changes nothing while it is held.
	if _, applied := f.Mirror(remote("gpu1", "hub-b", 41, c.t), nil); applied || m.State().Hub != "hub-a" {
		t.Fatalf("a record of the former holder was applied over the stream held here")
	}
	// Another hub takes it: the stream here is released.
	conn := f.Release(m)
	if conn == nil || m.Held() {
		t.Fatal("release left the stream held")
	}
	select {
	case <-conn.Done():
	default:
		t.Error("the released stream's commands are not failed")
	}
	if _, applied := f.Mirror(remote("gpu1", "hub-c", 45, c.t), nil); !applied || m.State().Hub != "hub-c" {
		t.Fatalf("after release: %+v", m.State())
	}
}

func TestImpostorOfAMirroredMachineIsAConflict(t *testing.T) {
	f, c := newTestFleet()
	f.SetHub("hub-a")
	f.Mirror(remote("gpu1", "hub-b", 3, c.t), nil)
	m, w := f.Attach(claim("gpu1", "id-gpu1", "not-the-secret"))
	if !w.Conflict || m.Key == "gpu1" {
		t.Fatalf("a stream without the secret another hub holds became %q (welcome %+v), want a conflict entry", m.Key, w)
	}
}

func TestMarkReconnectingAndForget(t *testing.T) {
	f, c := newTestFleet()
	f.SetHub("hub-a")
	gone, _ := f.Mirror(remote("gpu1", "hub-b", 3, c.t), nil)
	other, _ := f.Mirror(remote("gpu2", "hub-c", 3, c.t), nil)
	if n := f.MarkReconnecting("hub-b"); n != 1 {
		t.Fatalf("marked %d machines of hub-b, want 1", n)
	}
	if st := gone.State(); !st.Reconnecting || st.Online || st.CanKill {
		t.Errorf("machine of the dead hub: %+v, want reconnecting and not online", st)
	}
	if st := other.State(); st.Reconnecting || !st.Online {
		t.Errorf("machine of a live hub: %+v", st)
	}
	if n := f.MarkReconnecting("hub-b"); n != 0 {
		t.Errorf("marked %d again", n)
	}
	// Back through another hub: no longer reconnecting.
	f.Mirror(remote("gpu1", "hub-c", 5, c.t), nil)
	if st := gone.State(); st.Reconnecting || !st.Online {
		t.Errorf("after its agent reached hub-c: %+v", st)
	}
	if !f.ForgetMirror("gpu1") {
		t.Fatal("ForgetMirror of a mirrored machine refused")
	}
	if _, ok := f.Get("gpu1"); ok {
		t.Error("forgotten machine still listed")
	}
	held, _ := f.Attach(claim("gpu3", "id-gpu3", ""))
	if f.ForgetMirror(held.Key) {
		t.Error("ForgetMirror forgot a machine whose stream this hub holds")
	}
}

// Mirrored machines count against --max-machines but are never refused: a
// hub shows the whole cluster's fleet, and forgetting one frees its place.
func TestMirrorCountsAgainstMaxMachines(t *testing.T) {
	f, c := newTestFleet()
	f.SetHub("hub-a")
	f.SetMaxMachines(1)
	f.Mirror(remote("gpu1", "hub-b", 1, c.t), nil)
	f.Mirror(remote("gpu2", "hub-b", 1, c.t), nil)
	if f.Len() != 2 {
		t.Fatalf("Len = %d, want both mirrored machines", f.Len())
	}
	if m, _ := f.Attach(claim("gpu3", "id-gpu3", "")); m != nil {
		t.Fatal("a new machine was taken past --max-machines")
	}
	f.ForgetMirror("gpu1")
	f.ForgetMirror("gpu2")
	if m, _ := f.Attach(claim("gpu3", "id-gpu3", "")); m == nil {
		t.Fatal("no room after the mirrored machines were forgotten")
	}
}

// While the cluster's view is interrupted, machines other hubs hold keep
// the state their hubs published; once it is whole, silence counts again.
func TestHoldMirrors(t *testing.T) {
	f, c := newTestFleet()
	f.SetHub("hub-a")
	m, _ := f.Mirror(remote("gpu1", "hub-b", 1, c.t), nil)
	own, _ := f.Attach(claim("gpu2", "id-gpu2", ""))
	f.Ingest(own, 1, report(c.t, 1))
	f.HoldMirrors(true)
	c.advance(time.Minute)
	f.Sweep()
	if !m.State().Online {
		t.Error("a mirrored machine went offline while the view was held")
	}
	if own.State().Online {
		t.Error("this hub's own silent machine stayed online")
	}
	f.HoldMirrors(false)
	f.Sweep()
	if m.State().Online {
		t.Error("a mirrored machine silent for a minute stayed online once the view was whole")
	}
}

// A machine another hub holds is online as that hub judges it while its
// word is fresh, however old its last published record: records follow
// acknowledgements, which stall while JetStream elects a leader.
func TestHolderJudgesItsMachines(t *testing.T) {
	f, c := newTestFleet()
	f.SetHub("hub-a")
	words := map[string]map[string]bool{} // hub → key → offline; absent hub: no fresh word
	f.SetHolders(func(hub, key string) (bool, bool) {
		offline, ok := words[hub]
		if !ok {
			return false, false
		}
		return !offline[key], true
	})
	words["hub-b"] = map[string]bool{}
	m, _ := f.Mirror(remote("gpu1", "hub-b", 1, c.t), nil)
	silent, _ := f.Mirror(remote("gpu2", "hub-c", 1, c.t), nil)
	own, _ := f.Attach(claim("gpu3", "id-gpu3", ""))
	f.Ingest(own, 1, report(c.t, 1))
	c.advance(time.Minute)
	f.Sweep()
	switch {
	case !m.State().Online:
		t.Error("a machine its holder calls online went offline because its record is a minute old")
	case silent.State().Online:
		t.Error("a machine whose holder has no fresh word stayed online with a minute-old record")
	case own.State().Online:
		t.Error("this hub's own silent machine stayed online")
	}
	words["hub-b"]["gpu1"] = true
	f.Sweep()
	if m.State().Online {
		t.Error("a machine its holder calls offline stayed online")
	}
	words["hub-b"]["gpu1"] = false
	f.Sweep()
	if !m.State().Online {
		t.Error("a machine its holder calls online again stayed offline")
	}
	if got := f.HeldOffline(); len(got) != 1 || got[0] != own.Key {
		t.Errorf("HeldOffline = %v, want [%s] (the silent machine this hub holds)", got, own.Key)
	}
	// A record saying the stream ended wins over a heartbeat that lags.
	gone := remote("gpu1", "hub-b", 2, c.t)
	gone.Connected = false
	f.Mirror(gone, nil)
	if m.State().Online {
		t.Error("a machine whose holder published its stream's end is online")
	}
}
