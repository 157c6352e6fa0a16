package fleet

import (
	"time"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// Cluster mode (hub --cluster-nats): the hub that holds a machine's agent
// stream publishes the machine (Remote) and every other hub mirrors it. The
// fleet only keeps what it is told; hub/internal/cluster decides who holds
// what.

// Remote is a machine as the hub holding its stream publishes it.
type Remote struct {
	Record
	// Hub is the name of the hub that holds (or last held) the stream.
	Hub         string
	Connected   bool
	Buffer      time.Duration
	ClockOffset float64
	ClockSkewed bool
	CanKill     bool
}

// SetHub names this hub in a cluster; machines whose streams it holds are
// published under that name. Call it before serving.
func (f *Fleet) SetHub(name string) { f.hub = name }

// Hub is this hub's name in a cluster ("" on a single hub).
func (f *Fleet) Hub() string { return f.hub }

// SetHolders makes a machine another hub holds online as that hub judges it
// while fn knows its word, instead of by the age of its last published
// sample. Call it before serving.
func (f *Fleet) SetHolders(fn func(hub, key string) (online, known bool)) { f.holders = fn }

// onlineOf is whether s, a state of m, is online now: as the holding hub
// judges it for a connected machine held elsewhere whose holder's word is
// fresh, otherwise by its last sample's receive time.
func (f *Fleet) onlineOf(m *Machine, s *State, now time.Time) bool {
	if f.holders != nil && s.Connected && s.Hub != "" && s.Hub != f.hub && !m.Held() {
		if online, known := f.holders(s.Hub, m.Key); known {
			return online
		}
	}
	return s.online(now)
}

// HeldOffline returns the keys of the machines whose streams this hub holds
// and judges offline: a stream is open, but no sample came within the
// offline window.
func (f *Fleet) HeldOffline() []string {
	var keys []string
	f.machines.Range(func(_, v any) bool {
		m := v.(*Machine)
		if st := m.State(); st != nil && st.Connected && !st.Online && m.Held() {
			keys = append(keys, m.Key)
		}
		return true
	})
	return keys
}

// HoldMirrors, while on, keeps Sweep from judging the machines other hubs
// hold: their last published state stands (the page marks it stale by its
// age) until the cluster's view is whole again.
func (f *Fleet) HoldMirrors(on bool) { f.holdMirrors.Store(on) }

// mirrorHeld reports whether Sweep leaves st, a state of m, alone.
func (f *Fleet) mirrorHeld(m *Machine, st *State) bool {
	return f.holdMirrors.Load() && st.Hub != "" && st.Hub != f.hub && !m.Held()
}

// Held reports whether this hub holds m's agent stream.
func (m *Machine) Held() bool {
	c := m.Conn()
	return c != nil && !c.Forwarded
}

// RemoteOf is m's record for the cluster; ok is false for machines that
// are not published (collectors' entries, which stay with the hub they post
// to, and machines without a state).
func (f *Fleet) RemoteOf(m *Machine) (Remote, bool) {
	st := m.State()
	if st == nil || m.legacy {
		return Remote{}, false
	}
	f.mu.Lock()
	secret := m.secret
	f.mu.Unlock()
	return Remote{
		Record: Record{
			Key: m.Key, Hostname: m.Hostname, MachineID: m.MachineID,
			Report: st.Report, Inventory: st.Inventory,
			FirstSeen: st.FirstSeen, LastSeen: st.LastSeen, SampleTime: st.SampleTime,
			Interval: st.Interval, Epoch: st.Epoch, LastSeq: st.AckedSeq,
			Source: st.Source, Agent: st.Agent, Simulated: st.Simulated, SecretHash: secret,
		},
		Hub: st.Hub, Connected: st.Connected, Buffer: st.Buffer,
		ClockOffset: st.ClockOffset, ClockSkewed: st.ClockSkewed, CanKill: st.CanKill,
	}, true
}

// Mirror takes a machine another hub published. A machine whose stream
// this hub holds is left as it is (false): its own hub decides (see
// Release). Commands for a mirrored machine go to conn (nil: none), which
// forwards them to the holding hub.
func (f *Fleet) Mirror(r Remote, conn *AgentConn) (*Machine, bool) {
	m, created := f.mirrorEntry(r)
	m.mu.Lock()
	if m.Held() {
		m.mu.Unlock()
		return m, false
	}
	prev := m.State()
	next := State{
		Report: r.Report, Inventory: r.Inventory, FirstSeen: r.FirstSeen, LastSeen: r.LastSeen, SampleTime: r.SampleTime,
		Interval: r.Interval, Epoch: r.Epoch, LastSeq: r.LastSeq, AckedSeq: r.LastSeq, Buffer: r.Buffer,
		ClockOffset: r.ClockOffset, ClockSkewed: r.ClockSkewed, Source: r.Source, Connected: r.Connected,
		CanKill: r.CanKill && r.Connected, Simulated: r.Simulated, Agent: r.Agent, Hub: r.Hub,
	}
	if prev != nil {
		next.Conflict = prev.Conflict
	}
	if r.Report != nil {
		r.Report.MachineId, r.Report.MachineFingerprint = "", m.Fingerprint
	}
	if next.Buffer <= 0 {
		next.Buffer = DefaultBuffer
	}
	if conn != nil && r.Connected {
		m.conn.Store(conn)
	} else {
		m.conn.Store(nil)
	}
	kind := gpumonv1.WatchEventType_WATCH_EVENT_TYPE_STATUS
	if prev != nil && prev.Report != r.Report && r.LastSeq > prev.LastSeq {
		kind = gpumonv1.WatchEventType_WATCH_EVENT_TYPE_SAMPLE
	}
	f.publish(m, &next, kind)
	m.mu.Unlock()
	if created {
		f.refreshConflicts(m.Hostname)
	}
	return m, true
}

// mirrorEntry finds or creates the machine under r.Key, adopting r's
// secret: the bucket is the cluster's registry.
func (f *Fleet) mirrorEntry(r Remote) (*Machine, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m, ok := f.Get(r.Key); ok {
		if r.SecretHash != "" && !m.legacy && m.MachineID == r.MachineID {
			m.secret = r.SecretHash
		}
		return m, false
	}
	// Counted against SetMaxMachines but never refused: every hub shows the
	// cluster's whole fleet.
	f.count++
	m := &Machine{Key: r.Key, Hostname: r.Hostname, MachineID: r.MachineID, Fingerprint: Fingerprint(r.MachineID), secret: r.SecretHash}
	f.machines.Store(r.Key, m)
	f.members.Add(1)
	f.byHost[r.Hostname] = append(f.byHost[r.Hostname], m)
	return m, true
}

// Release ends this hub's hold on m: another hub took its stream over (the
// agent moved; a stream still open here is a half-open leftover). The
// stream's commands fail; the caller ends the stream itself.
func (f *Fleet) Release(m *Machine) *AgentConn {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.Conn()
	if c == nil || c.Forwarded {
		return nil
	}
	m.conn.Store(nil)
	c.Close()
	return c
}

// ForgetMirror forgets a machine another hub forgot (its record is gone),
// unless this hub holds its stream.
func (f *Fleet) ForgetMirror(key string) bool {
	m, ok := f.Get(key)
	if !ok {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Held() {
		return false
	}
	m.conn.Store(nil)
	f.remove(m)
	return true
}

// MarkReconnecting marks the machines held by hub, which stopped answering,
// as reconnecting (not online) until their agents reconnect somewhere.
func (f *Fleet) MarkReconnecting(hub string) int {
	n := 0
	for _, m := range f.List() {
		m.mu.Lock()
		if st := m.State(); st != nil && st.Hub == hub && st.Connected && !m.Held() {
			next := *st
			next.Connected, next.CanKill, next.Reconnecting = false, false, true
			m.conn.Store(nil)
			f.publish(m, &next, gpumonv1.WatchEventType_WATCH_EVENT_TYPE_STATUS)
			n++
		}
		m.mu.Unlock()
	}
	return n
}
