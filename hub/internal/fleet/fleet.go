// Package fleet holds the hub's view of every machine: its latest report,
// whether it is online, and the stream of its agent.
//
// Reads take no global lock: machines sit in a sync.Map and each publishes an
// immutable State through an atomic pointer. Writers of one machine are
// serialised by that machine's own mutex; only adding and forgetting
// machines take the fleet-wide mutex.
package fleet

import (
	"errors"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/gpustate"
)

// MinOfflineAfter is the shortest silence after which a machine is offline;
// the limit is max(3 × interval, MinOfflineAfter).
const MinOfflineAfter = 10 * time.Second

// DefaultInterval is assumed for senders that do not say theirs.
const DefaultInterval = 2 * time.Second

// Errors the service layer maps to status codes.
var (
	ErrNotFound = errors.New("no such machine")
	ErrOnline   = errors.New("machine is online")
	ErrNoAgent  = errors.New("machine has no connected agent")
)

// Fleet is the set of known machines.
type Fleet struct {
	machines sync.Map // key → *Machine
	mu       sync.Mutex
	byHost   map[string][]*Machine
	count    int // machines, under mu
	max      int // at most this many (0: no limit), under mu
	version  atomic.Uint64
	members  atomic.Uint64
	events   *Broker
	log      *slog.Logger
	now      func() time.Time

	// collectors are the original collectors' websockets by hostname (under mu).
	collectors map[string]*AgentConn
	// idleAfter: a GPU idle while held this long is idle-held.
	idleAfter time.Duration
	// hub is this hub's name in a cluster (SetHub).
	hub         string
	holdMirrors atomic.Bool
	// holders, in a cluster, says whether the hub holding a machine's stream
	// judges it online; known is false while that hub's word is not fresh
	// (SetHolders).
	holders func(hub, key string) (online, known bool)
}

// New returns an empty fleet.
func New(log *slog.Logger) *Fleet {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &Fleet{byHost: map[string][]*Machine{}, events: NewBroker(), log: log, now: time.Now, idleAfter: gpustate.DefaultIdleAfter}
	f.collectors = map[string]*AgentConn{}
	return f
}

// SetMaxMachines bounds how many machines the fleet holds (0: no bound):
// past it a new machine is refused (Attach and IngestLegacy return nil),
// while known ones keep reporting. Machines restored beyond it are kept.
func (f *Fleet) SetMaxMachines(n int) {
	f.mu.Lock()
	f.max = n
	f.mu.Unlock()
}

// Len is the number of machines.
func (f *Fleet) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count
}

// SetClock replaces the fleet's clock (tests of packages that read the
// fleet); call it before the fleet is used.
func SetClock(f *Fleet, now func() time.Time) { f.now = now }

// Events is the fleet's event broker (for Watch).
func (f *Fleet) Events() *Broker { return f.events }

// Version changes whenever any machine's state changes.
func (f *Fleet) Version() uint64 { return f.version.Load() }

// Members changes whenever a machine is added or forgotten.
func (f *Fleet) Members() uint64 { return f.members.Load() }

// Machine is one machine. Key, Hostname, MachineID and Fingerprint never
// change.
type Machine struct {
	Key       string
	Hostname  string
	MachineID string
	// Fingerprint stands for MachineID wherever the hub publishes.
	Fingerprint string

	legacy bool   // a collector's entry (documented POST), never an agent's
	secret string // hash of the agent's machine secret; guarded by Fleet.mu

	clockLogged time.Time    // last warning about its clock; guarded by mu
	cutLogged   atomic.Int64 // last warning of a cut process list, Unix nanoseconds

	mu    sync.Mutex // serialises writers
	state atomic.Pointer[State]
	conn  atomic.Pointer[AgentConn]
}

// CutWarningDue says whether a warning that the machine's process list is
// cut to the hub's limits is due (none in the last 10 minutes), and if so
// counts it as given.
func (m *Machine) CutWarningDue(now time.Time) bool {
	last := m.cutLogged.Load()
	if last != 0 && now.Sub(time.Unix(0, last)) < 10*time.Minute {
		return false
	}
	return m.cutLogged.CompareAndSwap(last, now.UnixNano())
}

// State is a machine's published state; it is never modified once published.
type State struct {
	Report     *gpumonv1.Report // latest sample, static facts filled in
	Inventory  *gpumonv1.Inventory
	FirstSeen  time.Time
	LastSeen   time.Time // hub receive time of the latest sample
	SampleTime time.Time // the latest sample's own time
	Interval   time.Duration
	Epoch      uint64
	// LastSeq is the newest sequence number of the epoch seen; AckedSeq the
	// newest whose history append committed (what the agent is told).
	LastSeq  uint64
	AckedSeq uint64
	// Buffer is how far back the agent's replay buffer reaches.
	Buffer time.Duration
	// ClockOffset is the latest sample's own time minus the hub's receive
	// time, seconds, when ClockSkewed: it was stamped more than MaxClockAhead
	// ahead or older than the buffer allows, and was recorded at the receive
	// time.
	ClockOffset float64
	ClockSkewed bool
	Source      string // "agent" or "legacy"
	Connected   bool
	Online      bool
	Conflict    bool
	CanKill     bool
	Simulated   bool
	Agent       string // agent version
	// Hub names the hub holding the stream in a cluster ("" on a single
	// hub); Reconnecting: that hub stopped answering and the agent has not
	// reconnected elsewhere yet.
	Hub          string
	Reconnecting bool
}

// State returns the machine's current state.
func (m *Machine) State() *State { return m.state.Load() }

// Conn returns the machine's agent stream, or nil.
func (m *Machine) Conn() *AgentConn { return m.conn.Load() }

// offlineAfter is max(3 × interval, MinOfflineAfter).
func offlineAfter(interval time.Duration) time.Duration {
	if interval <= 0 {
		interval = DefaultInterval
	}
	return max(3*interval, MinOfflineAfter)
}

func (s *State) online(now time.Time) bool {
	if s.Source == "agent" && !s.Connected {
		return false
	}
	return !s.LastSeen.IsZero() && now.Sub(s.LastSeen) <= offlineAfter(s.Interval)
}

// publish stores next as m's state (caller holds m.mu), bumps the version
// and announces the change.
func (f *Fleet) publish(m *Machine, next *State, kind gpumonv1.WatchEventType) {
	prev := m.state.Load()
	next.Online = f.onlineOf(m, next, f.now())
	if kind == gpumonv1.WatchEventType_WATCH_EVENT_TYPE_SAMPLE && prev != nil && prev.Online != next.Online {
		kind = gpumonv1.WatchEventType_WATCH_EVENT_TYPE_STATUS
	}
	m.state.Store(next)
	f.version.Add(1)
	f.events.Publish(Event{Type: kind, Machine: m, State: next})
}

// Get returns the machine listed under key.
func (f *Fleet) Get(key string) (*Machine, bool) {
	v, ok := f.machines.Load(key)
	if !ok {
		return nil, false
	}
	return v.(*Machine), true
}

// List returns every machine with a published state, sorted by key.
func (f *Fleet) List() []*Machine {
	var out []*Machine
	f.machines.Range(func(_, v any) bool {
		m := v.(*Machine)
		if m.State() != nil {
			out = append(out, m)
		}
		return true
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Forget removes an offline machine.
func (f *Fleet) Forget(key string) error {
	m, ok := f.Get(key)
	if !ok {
		return ErrNotFound
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if st := m.State(); st != nil && st.Online {
		return ErrOnline
	}
	f.remove(m)
	return nil
}

// remove takes m out of the fleet (caller holds m.mu).
func (f *Fleet) remove(m *Machine) {
	key := m.Key
	f.mu.Lock()
	f.machines.Delete(key)
	f.count--
	hs := f.byHost[m.Hostname]
	for i, x := range hs {
		if x == m {
			hs = append(hs[:i:i], hs[i+1:]...)
			break
		}
	}
	if len(hs) == 0 {
		delete(f.byHost, m.Hostname)
	} else {
		f.byHost[m.Hostname] = hs
	}
	f.mu.Unlock()
	f.members.Add(1)
	f.refreshConflicts(m.Hostname)
	f.version.Add(1)
	f.events.Publish(Event{Type: gpumonv1.WatchEventType_WATCH_EVENT_TYPE_FORGOTTEN, Machine: m, State: m.State()})
}

// Sweep marks machines offline whose agents went quiet. The hub calls it
// about once a second.
func (f *Fleet) Sweep() {
	now := f.now()
	f.machines.Range(func(_, v any) bool {
		m := v.(*Machine)
		st := m.State()
		if st == nil || st.Online == f.onlineOf(m, st, now) || f.mirrorHeld(m, st) {
			return true
		}
		m.mu.Lock()
		if cur := m.State(); cur != nil {
			next := *cur
			f.publish(m, &next, gpumonv1.WatchEventType_WATCH_EVENT_TYPE_STATUS)
		}
		m.mu.Unlock()
		return true
	})
}
