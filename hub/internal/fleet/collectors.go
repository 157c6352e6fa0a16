package fleet

import (
	"errors"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// ErrCollectorConnected refuses a second websocket for a hostname whose
// original collector is already connected.
var ErrCollectorConnected = errors.New("a collector for this hostname is already connected")

// AttachCollector registers the websocket of an original (Python) collector
// for hostname: its kill commands go through conn. The machine is the one its
// report POSTs create (no machine id); until the first POST the connection
// waits, and a machine an agent owns never takes it. One connection per
// hostname: a second one is refused while the first is attached.
func (f *Fleet) AttachCollector(hostname string, conn *AgentConn) error {
	f.mu.Lock()
	if _, ok := f.collectors[hostname]; ok {
		f.mu.Unlock()
		return ErrCollectorConnected
	}
	f.collectors[hostname] = conn
	m := f.legacyMachine(hostname)
	f.mu.Unlock()
	if m != nil {
		f.setCollector(m, nil, conn)
	}
	return nil
}

// DetachCollector ends what AttachCollector started.
func (f *Fleet) DetachCollector(hostname string, conn *AgentConn) {
	f.mu.Lock()
	if f.collectors[hostname] != conn {
		f.mu.Unlock()
		return
	}
	delete(f.collectors, hostname)
	m := f.legacyMachine(hostname)
	f.mu.Unlock()
	if m != nil {
		f.setCollector(m, conn, nil)
	}
}

// CollectorMachine returns the machine a collector for hostname reaches, if
// its reports have created one.
func (f *Fleet) CollectorMachine(hostname string) (*Machine, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.legacyMachine(hostname)
	return m, m != nil
}

// legacyMachine is hostname's machine that report POSTs created (or are
// creating); nil when there is none. Caller holds f.mu.
func (f *Fleet) legacyMachine(hostname string) *Machine {
	for _, m := range f.byHost[hostname] {
		if m.legacy {
			return m
		}
	}
	return nil
}

// pendingCollector is the collector connection waiting for hostname's
// legacy machine, or nil.
func (f *Fleet) pendingCollector(hostname string) *AgentConn {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.collectors[hostname]
}

// setCollector swaps m's command connection from old to conn and publishes
// whether kills can reach it. A machine still being created publishes that
// itself (IngestLegacy reads its connection).
func (f *Fleet) setCollector(m *Machine, old, conn *AgentConn) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.State()
	if (st != nil && st.Source != "legacy") || !m.conn.CompareAndSwap(old, conn) || st == nil {
		return
	}
	next := *st
	next.CanKill = conn != nil
	f.publish(m, &next, gpumonv1.WatchEventType_WATCH_EVENT_TYPE_STATUS)
}
