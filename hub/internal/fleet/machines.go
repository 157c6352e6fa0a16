package fleet

import (
	"slices"
	"time"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

func (f *Fleet) exists(key string) bool {
	_, ok := f.machines.Load(key)
	return ok
}

// refreshConflicts republishes the machines of hostname when whether they
// conflict changed.
func (f *Fleet) refreshConflicts(hostname string) {
	f.mu.Lock()
	hs := append([]*Machine(nil), f.byHost[hostname]...)
	f.mu.Unlock()
	conflict := len(hs) > 1
	for _, m := range hs {
		m.mu.Lock()
		if st := m.State(); st != nil && st.Conflict != conflict {
			next := *st
			next.Conflict = conflict
			f.publish(m, &next, gpumonv1.WatchEventType_WATCH_EVENT_TYPE_STATUS)
		}
		m.mu.Unlock()
	}
}

// Hello describes an agent opening a stream.
type Hello struct {
	*gpumonv1.Hello
	Interval time.Duration
	Conn     *AgentConn
}

// Welcome is what the hub tells an attached agent.
type Welcome struct {
	Verdict
	// LastSeq is the newest sequence number of the agent's epoch whose
	// history append committed: the agent replays what follows.
	LastSeq uint64
}

// Attach registers an agent's stream under the machine its claim stands for
// (see lookupAgent); nil when that is a new machine and the fleet is full
// (SetMaxMachines). A previous stream of the same machine is replaced (its
// Detach is then a no-op).
func (f *Fleet) Attach(h Hello) (*Machine, Welcome) {
	m, verdict, created := f.lookupAgent(Claim{
		Hostname: h.GetHostname(), MachineID: h.GetMachineId(), Secret: h.GetMachineSecret(),
		KeepsSecret: slices.Contains(h.GetCapabilities(), SecretCapability),
	})
	if m == nil {
		return nil, Welcome{}
	}
	m.mu.Lock()
	now := f.now()
	next := State{FirstSeen: now}
	if cur := m.State(); cur != nil {
		next = *cur
	}
	if next.Epoch != h.GetEpoch() {
		next.Epoch, next.LastSeq, next.AckedSeq = h.GetEpoch(), 0, 0
	}
	next.Inventory = h.GetInventory()
	next.Interval = h.Interval
	next.Buffer = DefaultBuffer
	if b := h.GetBuffer(); b != nil && b.AsDuration() > 0 {
		next.Buffer = min(b.AsDuration(), MaxBuffer)
	}
	next.Source = "agent"
	next.Connected = true
	next.CanKill = h.Conn != nil && h.Conn.CanKill
	next.Simulated = h.GetSimulated()
	next.Agent = h.GetAgentVersion()
	next.Hub, next.Reconnecting = f.hub, false
	if next.LastSeen.IsZero() {
		next.LastSeen = now
	}
	m.conn.Store(h.Conn)
	f.publish(m, &next, gpumonv1.WatchEventType_WATCH_EVENT_TYPE_STATUS)
	w := Welcome{Verdict: verdict, LastSeq: next.AckedSeq}
	m.mu.Unlock()
	if created || verdict.Conflict {
		f.refreshConflicts(m.Hostname)
	}
	return m, w
}

// Detach marks the end of an agent's stream: the machine goes offline.
func (f *Fleet) Detach(m *Machine, conn *AgentConn) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.conn.CompareAndSwap(conn, nil) {
		return // a newer stream has taken over
	}
	if cur := m.State(); cur != nil {
		next := *cur
		next.Connected = false
		next.CanKill = false
		f.publish(m, &next, gpumonv1.WatchEventType_WATCH_EVENT_TYPE_STATUS)
	}
}

// Outcome says what Ingest did with a snapshot.
type Outcome int

// Ingest outcomes.
const (
	// Current: the snapshot is the machine's newest and now its current state.
	Current Outcome = iota
	// Older: seen before but not yet recorded (the agent replays it after
	// the history store failed): for history only.
	Older
	// Duplicate: already recorded in history; nothing to do but acknowledge.
	Duplicate
)

// Ingest takes a snapshot of an attached agent. report must be validated.
// Its timestamp becomes the time to record it at (see stamp). The newest
// sequence number is the machine's current state, whatever its sample time:
// an agent clock stepped back does not freeze the machine.
func (f *Fleet) Ingest(m *Machine, seq uint64, report *gpumonv1.Report) Outcome {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.State()
	if cur == nil || seq <= cur.AckedSeq {
		return Duplicate
	}
	FillStatic(report, cur.Inventory)
	report.Hostname = m.Hostname
	report.MachineId = ""
	report.MachineFingerprint = m.Fingerprint
	recv := f.now()
	offset, skewed := stamp(report, recv, cur.Buffer)
	if seq <= cur.LastSeq {
		return Older
	}
	next := *cur
	next.LastSeq = seq
	f.noteClock(m, &next, offset, skewed)
	next.Report = report
	next.SampleTime = report.GetTimestamp().AsTime()
	next.LastSeen = recv
	f.markIdle(cur, report, next.LastSeen)
	if iv := report.GetIntervalSeconds(); iv > 0 {
		next.Interval = time.Duration(iv * float64(time.Second))
	}
	f.publish(m, &next, gpumonv1.WatchEventType_WATCH_EVENT_TYPE_SAMPLE)
	return Current
}

// Acked notes that every snapshot up to seq is in history.
func (f *Fleet) Acked(m *Machine, seq uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur := m.State(); cur != nil && seq > cur.AckedSeq {
		next := *cur
		next.AckedSeq = seq
		m.state.Store(&next)
		f.version.Add(1)
	}
}

// IngestLegacy records a report posted to the documented REST route, under
// the hostname's collector entry (never an agent's). report must be
// validated; its timestamp may be unset. The fleet keeps report: the caller
// must not change it afterwards. It returns nil, storing nothing, when the
// entry would be new and the fleet is full.
func (f *Fleet) IngestLegacy(report *gpumonv1.Report) *Machine {
	m, created := f.lookupLegacy(report.GetHostname())
	if m == nil {
		return nil
	}
	m.mu.Lock()
	now := f.now()
	next := State{FirstSeen: now, Interval: DefaultInterval}
	if cur := m.State(); cur != nil {
		next = *cur
		if gap := now.Sub(cur.LastSeen); cur.Source == "legacy" && gap > 0 && gap < time.Minute {
			// Estimate the sender's interval from the gap between posts.
			next.Interval = (next.Interval*3 + gap) / 4
		}
	}
	report.MachineId = ""
	offset, skewed := stamp(report, now, 0)
	f.noteClock(m, &next, offset, skewed)
	f.markIdle(m.State(), report, now)
	next.Report = report
	next.SampleTime = report.GetTimestamp().AsTime()
	next.LastSeen = now
	next.Source = "legacy"
	next.Connected = false
	if m.Conn() == nil {
		// The original collector's websocket may have come first.
		if c := f.pendingCollector(m.Hostname); c != nil {
			m.conn.CompareAndSwap(nil, c)
		}
	}
	next.CanKill = m.Conn() != nil
	f.publish(m, &next, gpumonv1.WatchEventType_WATCH_EVENT_TYPE_SAMPLE)
	m.mu.Unlock()
	if created {
		f.refreshConflicts(m.Hostname)
	}
	return m
}
