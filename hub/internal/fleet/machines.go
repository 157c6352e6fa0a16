package fleet

import (
	"fmt"
	"time"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// lookup finds or creates the machine for (hostname, machineID). A second
// machine id claiming a known hostname gets its own key, hostname@id, and
// both are marked as a conflict. Caller must not hold f.mu.
func (f *Fleet) lookup(hostname, machineID string) (*Machine, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	hs := f.byHost[hostname]
	for _, m := range hs {
		if m.MachineID == machineID {
			return m, false
		}
	}
	key := hostname
	if len(hs) > 0 {
		key = fmt.Sprintf("%s@%s", hostname, shortID(machineID))
		for i := 2; f.exists(key); i++ {
			key = fmt.Sprintf("%s@%s-%d", hostname, shortID(machineID), i)
		}
	}
	m := &Machine{Key: key, Hostname: hostname, MachineID: machineID}
	f.machines.Store(key, m)
	f.members.Add(1)
	f.byHost[hostname] = append(hs, m)
	return m, true
}

func (f *Fleet) exists(key string) bool {
	_, ok := f.machines.Load(key)
	return ok
}

func shortID(id string) string {
	switch {
	case id == "":
		return "legacy"
	case len(id) > 8:
		return id[:8]
	}
	return id
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

// Attach registers an agent's stream. It returns the machine and the last
// sequence number the hub holds for the agent's epoch. A previous stream of
// the same machine is replaced (its Detach is then a no-op).
func (f *Fleet) Attach(h Hello) (*Machine, uint64) {
	m, _ := f.lookup(h.GetHostname(), h.GetMachineId())
	m.mu.Lock()
	now := f.now()
	next := State{FirstSeen: now}
	if cur := m.State(); cur != nil {
		next = *cur
	}
	if next.Epoch != h.GetEpoch() {
		next.Epoch, next.LastSeq = h.GetEpoch(), 0
	}
	next.Inventory = h.GetInventory()
	next.Interval = h.Interval
	next.Source = "agent"
	next.Connected = true
	next.CanKill = h.Conn != nil && h.Conn.CanKill
	next.Simulated = h.GetSimulated()
	next.Agent = h.GetAgentVersion()
	if next.LastSeen.IsZero() {
		next.LastSeen = now
	}
	m.conn.Store(h.Conn)
	f.publish(m, &next, gpumonv1.WatchEventType_WATCH_EVENT_TYPE_STATUS)
	lastSeq := next.LastSeq
	m.mu.Unlock()
	f.refreshConflicts(m.Hostname)
	return m, lastSeq
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
	// Older: stored for history, but an newer sample stays current.
	Older
	// Duplicate: the sequence number was seen before; nothing changed.
	Duplicate
)

// Ingest records a snapshot of an attached agent. report must be validated.
func (f *Fleet) Ingest(m *Machine, seq uint64, report *gpumonv1.Report) Outcome {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.State()
	if cur == nil || seq <= cur.LastSeq {
		return Duplicate
	}
	next := *cur
	next.LastSeq = seq
	FillStatic(report, cur.Inventory)
	report.Hostname = m.Hostname
	report.MachineId = m.MachineID
	sampleTime := report.GetTimestamp().AsTime()
	if !cur.SampleTime.IsZero() && sampleTime.Before(cur.SampleTime) {
		// A replayed sample from the agent's buffer: history only.
		m.state.Store(&next)
		f.version.Add(1)
		return Older
	}
	next.Report = report
	next.SampleTime = sampleTime
	next.LastSeen = f.now()
	f.markIdle(cur, report, next.LastSeen)
	if iv := report.GetIntervalSeconds(); iv > 0 {
		next.Interval = time.Duration(iv * float64(time.Second))
	}
	f.publish(m, &next, gpumonv1.WatchEventType_WATCH_EVENT_TYPE_SAMPLE)
	return Current
}

// IngestLegacy records a report posted to the documented REST route.
// report must be validated; its timestamp may be unset. The fleet keeps
// report: the caller must not change it afterwards.
func (f *Fleet) IngestLegacy(report *gpumonv1.Report) *Machine {
	m, created := f.lookup(report.GetHostname(), report.GetMachineId())
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
	if report.Timestamp == nil {
		report.Timestamp = timestampNow(now)
	}
	f.markIdle(m.State(), report, now)
	next.Report = report
	next.SampleTime = report.GetTimestamp().AsTime()
	next.LastSeen = now
	next.Source = "legacy"
	next.Connected = false
	if m.MachineID == "" && m.Conn() == nil {
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
