package fleet

import (
	"time"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// Record is what survives a restart of the hub for one machine.
type Record struct {
	Key, Hostname, MachineID string
	Report                   *gpumonv1.Report
	Inventory                *gpumonv1.Inventory
	FirstSeen, LastSeen      time.Time
	SampleTime               time.Time
	Interval                 time.Duration
	Epoch, LastSeq           uint64
	Source, Agent            string
	Simulated                bool
}

// Export returns a record of every machine.
func (f *Fleet) Export() []Record {
	var out []Record
	for _, m := range f.List() {
		st := m.State()
		out = append(out, Record{
			Key: m.Key, Hostname: m.Hostname, MachineID: m.MachineID,
			Report: st.Report, Inventory: st.Inventory,
			FirstSeen: st.FirstSeen, LastSeen: st.LastSeen, SampleTime: st.SampleTime,
			Interval: st.Interval, Epoch: st.Epoch, LastSeq: st.LastSeq,
			Source: st.Source, Agent: st.Agent, Simulated: st.Simulated,
		})
	}
	return out
}

// Restore loads records into an empty fleet. Every machine comes back
// offline until its agent reconnects.
func (f *Fleet) Restore(recs []Record) {
	f.mu.Lock()
	for _, r := range recs {
		m := &Machine{Key: r.Key, Hostname: r.Hostname, MachineID: r.MachineID}
		m.state.Store(&State{
			Report: r.Report, Inventory: r.Inventory,
			FirstSeen: r.FirstSeen, LastSeen: r.LastSeen, SampleTime: r.SampleTime,
			Interval: r.Interval, Epoch: r.Epoch, LastSeq: r.LastSeq,
			Source: r.Source, Agent: r.Agent, Simulated: r.Simulated,
		})
		f.machines.Store(r.Key, m)
		f.byHost[r.Hostname] = append(f.byHost[r.Hostname], m)
	}
	hosts := make([]string, 0, len(f.byHost))
	for h := range f.byHost {
		hosts = append(hosts, h)
	}
	f.mu.Unlock()
	for _, h := range hosts {
		f.refreshConflicts(h)
	}
	f.version.Add(1)
}
