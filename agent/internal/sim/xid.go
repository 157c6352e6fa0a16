package sim

import (
	"sync"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// SimulatedXID is the Xid a simulated job's process reports when it gets
// SIGUSR1: 31, a GPU memory page fault, the Xid a faulty program causes.
const SimulatedXID = 31

// events delivers simulated NVML events to the event sets that asked for
// them, as the driver does: an Xid critical error goes to every set a GPU
// registered with for that type.
type events struct {
	mu   sync.Mutex
	sets []*eventSet
}

// eventSet is a simulated nvml.EventSet. The embedded interface is nil:
// only Wait and Free are simulated, as the gpu collector uses.
type eventSet struct {
	nvml.EventSet
	ch    chan nvml.EventData
	mu    sync.Mutex
	types map[int]uint64 // GPU index → registered event types
	freed bool
}

func (e *events) create() *eventSet {
	s := &eventSet{ch: make(chan nvml.EventData, 64), types: map[int]uint64{}}
	e.mu.Lock()
	e.sets = append(e.sets, s)
	e.mu.Unlock()
	return s
}

// register records that GPU g wants types on set.
func (s *eventSet) register(g int, types uint64) nvml.Return {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.freed {
		return nvml.ERROR_INVALID_ARGUMENT
	}
	s.types[g] |= types
	return nvml.SUCCESS
}

// Wait returns the next event, or ERROR_TIMEOUT after timeoutms.
func (s *eventSet) Wait(timeoutms uint32) (nvml.EventData, nvml.Return) {
	t := time.NewTimer(time.Duration(timeoutms) * time.Millisecond)
	defer t.Stop()
	select {
	case ev := <-s.ch:
		return ev, nvml.SUCCESS
	case <-t.C:
		return nvml.EventData{}, nvml.ERROR_TIMEOUT
	}
}

// Free releases the set: it gets no more events.
func (s *eventSet) Free() nvml.Return {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.freed = true
	return nvml.SUCCESS
}

// deliver sends ev, of GPU g, to every set g registered with for its type.
// A set whose reader fell 64 events behind loses the event, as a driver's
// queue would.
func (e *events) deliver(g int, ev nvml.EventData) {
	e.mu.Lock()
	sets := append([]*eventSet(nil), e.sets...)
	e.mu.Unlock()
	for _, s := range sets {
		s.mu.Lock()
		want := !s.freed && s.types[g]&ev.EventType != 0
		s.mu.Unlock()
		if !want {
			continue
		}
		select {
		case s.ch <- ev:
		default:
		}
	}
}

// EventSetCreate returns a simulated event set.
func (m *Machine) EventSetCreate() (nvml.EventSet, nvml.Return) {
	return m.events.create(), nvml.SUCCESS
}

// EventSetWait waits on a set from EventSetCreate.
func (m *Machine) EventSetWait(set nvml.EventSet, timeoutms uint32) (nvml.EventData, nvml.Return) {
	return set.Wait(timeoutms)
}

// EventSetFree frees a set from EventSetCreate.
func (m *Machine) EventSetFree(set nvml.EventSet) nvml.Return { return set.Free() }

// InjectXID makes GPU g report Xid critical error xid, as the driver would
// after a fault.
func (m *Machine) InjectXID(g int, xid uint64) {
	if g < 0 || g >= len(m.handles) {
		return
	}
	m.events.deliver(g, nvml.EventData{Device: m.handles[g], EventType: nvml.EventTypeXidCriticalError, EventData: xid})
}

// supportedEvents are the events a simulated GPU reports.
const supportedEvents = nvml.EventTypeXidCriticalError

func (d device) GetSupportedEventTypes() (uint64, nvml.Return) { return supportedEvents, nvml.SUCCESS }

func (d device) RegisterEvents(types uint64, set nvml.EventSet) nvml.Return {
	s, ok := set.(*eventSet)
	if !ok || types&^supportedEvents != 0 {
		return nvml.ERROR_INVALID_ARGUMENT
	}
	return s.register(d.index, types)
}
