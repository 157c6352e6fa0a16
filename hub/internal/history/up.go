package history

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/value"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// gpumon_machine_up (MachineUp) is the hub's own view of each machine, by
// the hub's clock, as Prometheus' up is its view of a target: 1 while the
// hub counts the machine online, 0 while it is offline, written at every
// change and every UpEvery. gpumon_machine_online follows the machine's
// samples and ends with them (a staleness marker shortly after);
// gpumon_machine_up goes on for as long as the machine is known, so a rule
// such as MachineOffline holds while a machine stays away, and after a
// restart for machines that do not come back. It is not one of the
// machine's own series: its times are the hub's.

// UpEvery is how often gpumon_machine_up is written for every machine.
const UpEvery = 15 * time.Second

// upTimes keeps each machine's newest gpumon_machine_up time, so it only
// moves forward.
type upTimes struct {
	mu   sync.Mutex
	last map[string]int64
}

// RecordUp writes a machine's gpumon_machine_up at t (or 1 ms after the
// newest, when t is not after it).
func (s *Store) RecordUp(m *fleet.Machine, online bool, t time.Time) {
	v := 0.0
	if online {
		v = 1
	}
	s.writeUp(m, v, t)
}

func (s *Store) writeUp(m *fleet.Machine, v float64, t time.Time) {
	if s.Err() != nil {
		return
	}
	s.up.mu.Lock()
	defer s.up.mu.Unlock()
	if s.up.last == nil {
		s.up.last = map[string]int64{}
	}
	ms := t.UnixMilli()
	if last, ok := s.up.last[m.Key]; ok && ms <= last {
		ms = last + 1
	}
	if s.append(ms, []sample{{lset: series(MachineUp, machineLabels(m.Key, m.Hostname)), value: v}}) == nil {
		s.up.last[m.Key] = ms
	}
}

// FollowUp writes gpumon_machine_up: for every machine at the start and
// every UpEvery, and at once when a machine goes online or offline; a
// forgotten machine's series ends (a staleness marker). It returns when
// ctx is done.
func (s *Store) FollowUp(ctx context.Context, f *fleet.Fleet) {
	sub := f.Events().Subscribe(4096)
	defer sub.Close()
	all := func(now time.Time) {
		for _, m := range f.List() {
			if st := m.State(); st != nil {
				s.RecordUp(m, st.Online, now)
			}
		}
	}
	all(time.Now())
	tick := time.NewTicker(UpEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			all(now)
		case ev := <-sub.C:
			switch {
			case ev.Type == gpumonv1.WatchEventType_WATCH_EVENT_TYPE_STATUS && ev.State != nil:
				s.RecordUp(ev.Machine, ev.State.Online, time.Now())
			case ev.Type == gpumonv1.WatchEventType_WATCH_EVENT_TYPE_FORGOTTEN:
				s.writeUp(ev.Machine, math.Float64frombits(value.StaleNaN), time.Now())
				s.up.mu.Lock()
				delete(s.up.last, ev.Machine.Key)
				s.up.mu.Unlock()
			}
		}
	}
}
