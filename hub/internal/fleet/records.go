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
	// LastSeq is the newest acknowledged sequence number of Epoch: never
	// ahead of what history holds.
	Epoch, LastSeq uint64
	Source, Agent  string
	Simulated      bool
	// SecretHash is the hash of the machine's secret ("" before its agent
	// was first welcomed by a hub that issues secrets).
	SecretHash string
}

// Export returns a record of every machine.
func (f *Fleet) Export() []Record {
	var out []Record
	for _, m := range f.List() {
		st := m.State()
		f.mu.Lock()
		secret := m.secret
		f.mu.Unlock()
		out = append(out, Record{
			Key: m.Key, Hostname: m.Hostname, MachineID: m.MachineID,
			Report: st.Report, Inventory: st.Inventory,
			FirstSeen: st.FirstSeen, LastSeen: st.LastSeen, SampleTime: st.SampleTime,
			Interval: st.Interval, Epoch: st.Epoch, LastSeq: st.AckedSeq,
			Source: st.Source, Agent: st.Agent, Simulated: st.Simulated, SecretHash: secret,
		})
	}
	return out
}

// Restore loads records into an empty fleet. Every machine comes back
// offline until its agent reconnects. Keys from before fingerprints, which
// held the start of a machine id, are renamed.
func (f *Fleet) Restore(recs []Record) {
	f.mu.Lock()
	for _, r := range recs {
		key := migrateKey(r.Key, r.Hostname, r.MachineID)
		if key != r.Key && f.exists(key) {
			key = r.Key
		}
		if key != r.Key {
			f.log.Info("machine key renamed: keys no longer hold machine ids", "from", r.Key, "to", key)
		}
		m := &Machine{Key: key, Hostname: r.Hostname, MachineID: r.MachineID, Fingerprint: Fingerprint(r.MachineID),
			legacy: r.Source == "legacy", secret: r.SecretHash}
		if r.Report != nil {
			r.Report.MachineId, r.Report.MachineFingerprint = "", m.Fingerprint
		}
		m.state.Store(&State{
			Report: r.Report, Inventory: r.Inventory,
			FirstSeen: r.FirstSeen, LastSeen: r.LastSeen, SampleTime: r.SampleTime,
			Interval: r.Interval, Epoch: r.Epoch, LastSeq: r.LastSeq, AckedSeq: r.LastSeq, Buffer: DefaultBuffer,
			Source: r.Source, Agent: r.Agent, Simulated: r.Simulated,
		})
		f.machines.Store(key, m)
		f.byHost[r.Hostname] = append(f.byHost[r.Hostname], m)
		f.count++
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
