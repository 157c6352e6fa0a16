// Package procdelta carries a snapshot's processes as what changed on one
// agent stream (SPEC §4.9): a process's static facts travel once per stream,
// then only its moving figures, and the PIDs that ended.
//
// The agent's Encoder and the hub's Decoder each keep, for one stream, the
// static facts the stream carried; both start empty with the stream, so a
// snapshot replayed after a reconnect is encoded against the new stream and
// the hub's state never outlives the stream it came from. Decode gives back
// exactly the report that was encoded.
package procdelta

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"google.golang.org/protobuf/proto"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// Capability is what agent and hub advertise (Hello, Welcome) to use deltas.
const Capability = "deltas"

// ColumnsCapability is what a hub advertises (Welcome) to take figures as
// columns (ProcessDelta.columns, Encoder.Columns).
const ColumnsCapability = "delta_columns"

// static is a process's static facts, with its PID.
func static(p *gpumonv1.Process) *gpumonv1.Process {
	return &gpumonv1.Process{
		Pid: p.Pid, Name: p.Name, Cmdline: p.Cmdline, CreateTime: p.CreateTime, Username: p.Username,
		Ppid: p.Ppid, ContainerId: p.ContainerId, Session: p.Session,
	}
}

func sameStatic(a, b *gpumonv1.Process) bool {
	return a.Pid == b.Pid && a.Name == b.Name && a.Cmdline == b.Cmdline && a.CreateTime == b.CreateTime &&
		a.Username == b.Username && a.Ppid == b.Ppid && a.ContainerId == b.ContainerId && sameSession(a.Session, b.Session)
}

// sameSession is proto.Equal(a, b), field by field (protobuf's reflection
// was a quarter of comparing a process's static facts).
func sameSession(a, b *gpumonv1.SessionRef) bool {
	if a == nil || b == nil {
		return a == b // a nil message is not an empty one
	}
	if len(a.ProtoReflect().GetUnknown()) > 0 || len(b.ProtoReflect().GetUnknown()) > 0 {
		return proto.Equal(a, b) // unknown fields compare by number, in any order
	}
	return a.Kind == b.Kind && a.Name == b.Name && a.User == b.User
}

// moving is a process's PID and moving figures.
func moving(p *gpumonv1.Process) *gpumonv1.Process {
	return &gpumonv1.Process{
		Pid: p.Pid, CpuPercent: p.CpuPercent, MemoryPercent: p.MemoryPercent, Status: p.Status, IsGpuProcess: p.IsGpuProcess,
		GpuMemoryUsage: p.GpuMemoryUsage, GpuId: p.GpuId, Rss: p.Rss, GpuIds: p.GpuIds, SmUtilization: p.SmUtilization,
		GpuUsageType: p.GpuUsageType,
	}
}

// sameMoving says whether p's moving figures are m's (nil: none yet), as
// proto.Equal(moving(p), m) would, without building moving(p).
func sameMoving(p, m *gpumonv1.Process) bool {
	return m != nil && p.Pid == m.Pid && sameFloat(p.CpuPercent, m.CpuPercent) && sameFloat(p.MemoryPercent, m.MemoryPercent) &&
		p.Status == m.Status && p.IsGpuProcess == m.IsGpuProcess && p.GpuMemoryUsage == m.GpuMemoryUsage &&
		sameOptional(p.GpuId, m.GpuId) && sameFloat(p.Rss, m.Rss) && slices.Equal(p.GpuIds, m.GpuIds) &&
		sameOptional(p.SmUtilization, m.SmUtilization) && p.GpuUsageType == m.GpuUsageType
}

// sameButColumns says whether p's moving figures are m's but for
// cpu_percent, memory_percent and rss, the figures FigureColumns carry.
func sameButColumns(p, m *gpumonv1.Process) bool {
	return m != nil && p.Pid == m.Pid && p.Status == m.Status && p.IsGpuProcess == m.IsGpuProcess &&
		p.GpuMemoryUsage == m.GpuMemoryUsage && sameOptional(p.GpuId, m.GpuId) && slices.Equal(p.GpuIds, m.GpuIds) &&
		sameOptional(p.SmUtilization, m.SmUtilization) && p.GpuUsageType == m.GpuUsageType
}

// copyProcess is a new message with p's fields (lists and messages
// shared), unknown fields included. It is written out field by field
// (proto.Clone goes through reflection); TestCopyProcessCopiesEveryField
// fails on a field added to Process and not here.
func copyProcess(p *gpumonv1.Process) *gpumonv1.Process {
	c := &gpumonv1.Process{
		Pid: p.Pid, Name: p.Name, Cmdline: p.Cmdline, CpuPercent: p.CpuPercent, MemoryPercent: p.MemoryPercent,
		CreateTime: p.CreateTime, Status: p.Status, Username: p.Username, IsGpuProcess: p.IsGpuProcess,
		GpuMemoryUsage: p.GpuMemoryUsage, GpuId: p.GpuId, Ppid: p.Ppid, Rss: p.Rss, GpuIds: p.GpuIds,
		ContainerId: p.ContainerId, Session: p.Session, SmUtilization: p.SmUtilization, GpuUsageType: p.GpuUsageType,
	}
	if u := p.ProtoReflect().GetUnknown(); len(u) > 0 {
		c.ProtoReflect().SetUnknown(u)
	}
	return c
}

// sameFloat is proto.Equal's float comparison: == but NaN equals NaN.
func sameFloat(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

func sameOptional[T comparable](a, b *T) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

// fill puts static facts st into p, which holds the moving figures.
func fill(p, st *gpumonv1.Process) {
	p.Name, p.Cmdline, p.CreateTime, p.Username = st.Name, st.Cmdline, st.CreateTime, st.Username
	p.Ppid, p.ContainerId, p.Session = st.Ppid, st.ContainerId, st.Session
}

// Encoder is the agent's side of one stream.
type Encoder struct {
	// Columns, when set (the hub has ColumnsCapability), tells processes
	// whose figures changed in cpu_percent, memory_percent or rss alone as
	// FigureColumns instead of whole figures in ProcessDelta.changed.
	Columns bool

	procs map[int32]*told // what the stream carried, by PID
	gen   uint64          // counts Encode calls
	// last is, after a delta, the entry of the process at each position
	// of its system list: a machine lists its processes in much the same
	// order from sample to sample, so the entry at the same position is
	// tried before the map. Every entry in it is in procs.
	last []*told
}

// told is what an Encoder's stream carried of one process.
type told struct {
	pid     int32
	facts   *gpumonv1.Process // static facts carried (nil: none yet)
	figures *gpumonv1.Process // system_info figures carried (nil: none)
	// own says whether figures is the encoder's alone (no delta holds it),
	// so that columns may update it in place.
	own bool
	// seen is the Encode call that last listed the PID, first its first
	// process in that call.
	seen  uint64
	first *gpumonv1.Process
}

// Encode moves s's processes into s.Processes, leaving only what the stream
// has not carried yet; s is changed in place. It returns false, and leaves
// s whole, when s cannot be told as a delta (one PID twice in
// system_info.processes, or with two different sets of static facts).
func (e *Encoder) Encode(s *gpumonv1.Snapshot) bool {
	r := s.GetReport()
	if r == nil || s.Processes != nil {
		return false
	}
	if e.procs == nil {
		e.procs = map[int32]*told{}
	}
	e.gen++
	gen := e.gen
	procs := r.GetSystemInfo().GetProcesses()
	d := &gpumonv1.ProcessDelta{Order: make([]int32, len(procs))}
	// What the stream will have carried, applied once s is sure to be a
	// delta; until then an entry made here holds nothing carried.
	var factsOf, figuresOf, columnsOf []*told
	var columnsFrom []*gpumonv1.Process // the processes of columnsOf, in order
	entry := func(pid int32) *told {
		t := e.procs[pid]
		if t == nil {
			t = &told{pid: pid}
			e.procs[pid] = t
		}
		return t
	}
	seen := 0 // entries this call listed
	// note takes p's static facts (t is its PID's entry): false when this
	// snapshot listed the PID before with other facts.
	note := func(t *told, p *gpumonv1.Process) bool {
		if t.seen == gen {
			return sameStatic(t.first, p)
		}
		t.seen, t.first = gen, p
		seen++
		if t.facts == nil || !sameStatic(t.facts, p) {
			d.Facts = append(d.Facts, static(p))
			factsOf = append(factsOf, t)
		}
		return true
	}
	changed := make([]*gpumonv1.Process, 0, len(procs))
	var cols *gpumonv1.FigureColumns
	// at becomes last, written in place: position i of last is read
	// before at's is written, and an entry written there by a call that
	// fails is in procs all the same.
	guesses, at := len(e.last), e.last
	if cap(at) < len(procs) {
		at = make([]*told, len(procs))
		copy(at, e.last)
	}
	at = at[:len(procs)]
	for i, p := range procs {
		var t *told
		if i < guesses && at[i].pid == p.Pid {
			t = at[i]
		} else {
			t = entry(p.Pid)
		}
		at[i] = t
		if t.seen == gen {
			return false // twice on the system list
		}
		note(t, p)
		d.Order[i] = p.Pid
		if sameMoving(p, t.figures) {
			continue
		}
		if !e.Columns || !sameButColumns(p, t.figures) {
			changed, figuresOf = append(changed, moving(p)), append(figuresOf, t)
			continue
		}
		columnsOf, columnsFrom = append(columnsOf, t), append(columnsFrom, p)
		if cols == nil {
			cols = &gpumonv1.FigureColumns{}
		}
		was, at := t.figures, uint32(i)
		if !sameFloat(p.CpuPercent, was.CpuPercent) {
			if cols.CpuPercentAt == nil {
				cols.CpuPercentAt, cols.CpuPercent = make([]uint32, 0, len(procs)-i), make([]float64, 0, len(procs)-i)
			}
			cols.CpuPercentAt, cols.CpuPercent = append(cols.CpuPercentAt, at), append(cols.CpuPercent, p.CpuPercent)
		}
		if !sameFloat(p.MemoryPercent, was.MemoryPercent) {
			cols.MemoryPercentAt, cols.MemoryPercent = append(cols.MemoryPercentAt, at), append(cols.MemoryPercent, p.MemoryPercent)
		}
		if !sameFloat(p.Rss, was.Rss) {
			cols.RssAt, cols.Rss = append(cols.RssAt, at), append(cols.Rss, p.Rss)
		}
	}
	for _, g := range r.GetGpuData() {
		list := &gpumonv1.GpuProcesses{Processes: make([]*gpumonv1.Process, len(g.GetProcesses()))}
		for i, p := range g.GetProcesses() {
			if !note(entry(p.Pid), p) {
				return false
			}
			list.Processes[i] = moving(p)
		}
		d.Gpus = append(d.Gpus, list)
	}
	// Only now that s is sure to be a delta: what the stream carries.
	if len(changed) > 0 {
		d.Changed = changed
	}
	d.Columns = cols
	for i, m := range changed {
		figuresOf[i].figures, figuresOf[i].own = m, false
	}
	for i, t := range columnsOf {
		p := columnsFrom[i]
		if !t.own {
			t.figures, t.own = moving(p), true
			continue
		}
		t.figures.CpuPercent, t.figures.MemoryPercent, t.figures.Rss = p.CpuPercent, p.MemoryPercent, p.Rss
	}
	for i, f := range d.Facts {
		factsOf[i].facts = f
	}
	if seen < len(e.procs) { // some entry was not listed: its process ended
		for pid, t := range e.procs {
			if t.seen != gen {
				if t.facts != nil {
					d.Ended = append(d.Ended, pid)
				}
				delete(e.procs, pid)
			}
		}
	}
	clear(at[len(at):cap(at)]) // past the list, no entry is kept alive
	e.last = at
	if r.SystemInfo != nil {
		r.SystemInfo.Processes = nil
	}
	for _, g := range r.GetGpuData() {
		g.Processes = nil
	}
	s.Processes = d
	return true
}

// Errors of Decode; each ends the stream (the agent reconnects and starts
// over from full static facts).
var (
	ErrUnknownPID = errors.New("delta names a process whose static facts this stream never carried")
	ErrMalformed  = errors.New("malformed process delta")
	ErrTooMany    = errors.New("too many processes kept for one stream")
)

// Decoder is the hub's side of one stream.
type Decoder struct {
	// Max bounds the processes kept (a stream that never says which
	// processes ended cannot grow them without end).
	Max int
	// Clean, when set, repairs a process's fields in place; it is applied
	// to static facts and figures as they arrive, so every process Decode
	// rebuilds out of them is clean and is not walked again.
	Clean func(*gpumonv1.Process)
	// Figure, when set, repairs a value of FigureColumns as it arrives, as
	// Clean does a process's figures.
	Figure func(float64) float64
	// procs is what the decoder keeps of each process, by PID.
	procs map[int32]*kept
	gen   uint64 // counts rebuilds
	// at is, after a rebuild, what is kept of the process at each position
	// of the order; twice says whether the order named a PID twice.
	at    []*kept
	twice bool
}

// kept is what a Decoder keeps of one process.
type kept struct {
	// facts is its static facts: the last report's process once it was
	// rebuilt, until then the facts as they arrived.
	facts *gpumonv1.Process
	// last is the process in the last report as rebuilt (nil: none yet).
	// A process the next delta names neither in its facts nor in its
	// figures is the same message in the next report: reports share their
	// unchanged processes, which nobody writes once rebuilt.
	last *gpumonv1.Process
	gen  uint64 // the rebuild that last listed it
	// own is the rebuild that made last (figures off the wire, or a copy
	// that columns changed): until the next, last is no earlier report's.
	own uint64
}

// Decode rebuilds s's report from s.Processes (nothing to do without one)
// and clears s.Processes. The messages of s.Processes become the report's
// processes, changed in place: they must be the decoder's alone, as they
// are when s comes off the wire.
func (d *Decoder) Decode(s *gpumonv1.Snapshot) error {
	pd := s.GetProcesses()
	if pd == nil {
		return nil
	}
	r := s.GetReport()
	switch {
	case r == nil:
		return fmt.Errorf("%w: no report", ErrMalformed)
	case len(pd.Order) > 0 && r.SystemInfo == nil:
		return fmt.Errorf("%w: processes without system_info", ErrMalformed)
	case len(r.GetSystemInfo().GetProcesses()) > 0:
		return fmt.Errorf("%w: processes both in the report and in the delta", ErrMalformed)
	case len(pd.Gpus) != len(r.GpuData):
		return fmt.Errorf("%w: %d GPU process lists for %d GPUs", ErrMalformed, len(pd.Gpus), len(r.GpuData))
	}
	for i, g := range r.GpuData {
		if len(g.Processes) > 0 {
			return fmt.Errorf("%w: GPU %d's processes both in the report and in the delta", ErrMalformed, i)
		}
	}
	if err := d.columns(pd.Columns, len(pd.Order)); err != nil {
		return err
	}
	if d.procs == nil {
		d.procs = map[int32]*kept{}
	}
	if d.Clean != nil {
		for _, p := range pd.Facts {
			d.Clean(p)
		}
		for _, p := range pd.Changed {
			d.Clean(p)
		}
		for _, g := range pd.Gpus {
			for _, p := range g.Processes {
				d.Clean(p)
			}
		}
	}
	for _, f := range pd.Facts {
		k := d.procs[f.Pid]
		if k == nil {
			d.procs[f.Pid] = &kept{facts: f}
			continue
		}
		k.facts = f
		// The last process takes the new facts now: one off the system
		// list in this delta (on a GPU's list only) comes back later with
		// them.
		if k.last != nil {
			p := moving(k.last)
			fill(p, f)
			k.last = p
		}
	}
	if d.Max > 0 && (len(d.procs) > d.Max || len(pd.Order) > d.Max) {
		return fmt.Errorf("%w (at most %d)", ErrTooMany, d.Max)
	}
	procs, ok, err := d.rebuild(pd, nil)
	if !ok && err == nil {
		// Figures not in the order of the processes (the agent's encoder
		// keeps it; another may not): look each process up.
		changed := make(map[int32]*gpumonv1.Process, len(pd.Changed))
		for _, m := range pd.Changed {
			changed[m.Pid] = m
		}
		procs, _, err = d.rebuild(pd, changed)
	}
	if err != nil {
		return err
	}
	if pd.Columns != nil {
		d.apply(pd.Columns, procs)
	}
	for i, g := range pd.Gpus {
		for _, p := range g.Processes {
			k := d.procs[p.Pid]
			if k == nil {
				return fmt.Errorf("%w: pid %d", ErrUnknownPID, p.Pid)
			}
			fill(p, k.facts)
		}
		r.GpuData[i].Processes = g.Processes
	}
	if r.SystemInfo != nil {
		r.SystemInfo.Processes = procs
	}
	for _, pid := range pd.Ended {
		delete(d.procs, pid)
	}
	s.Processes = nil
	return nil
}

// rebuild gives the system list of processes pd tells, each either the
// last process of its PID (figures unchanged) or its figures off the wire
// with the static facts filled in; the figures message becomes the
// process, so nothing is copied. The figures are found in changed when it
// is set, else by walking pd.Changed alongside pd.Order, which works when
// they come in the order's order and no PID comes twice (ok false when
// not: a PID's figures may come after where the walk first met it).
func (d *Decoder) rebuild(pd *gpumonv1.ProcessDelta, changed map[int32]*gpumonv1.Process) (procs []*gpumonv1.Process, ok bool, err error) {
	d.gen++
	d.twice = false
	procs = make([]*gpumonv1.Process, len(pd.Order))
	d.at = slices.Grow(d.at[:0], len(pd.Order))[:len(pd.Order)]
	next := 0 // the next of pd.Changed, without changed
	for i, pid := range pd.Order {
		var m *gpumonv1.Process
		switch {
		case changed != nil:
			m = changed[pid]
		case next < len(pd.Changed) && pd.Changed[next].Pid == pid:
			m = pd.Changed[next]
			next++
		}
		k := d.procs[pid]
		if k == nil {
			return nil, false, fmt.Errorf("%w: pid %d", ErrUnknownPID, pid)
		}
		if k.gen == d.gen {
			if changed == nil {
				return nil, false, nil // twice in the order
			}
			d.twice = true
		}
		k.gen = d.gen
		if m == nil {
			m = k.last
			if m == nil && changed == nil {
				return nil, false, nil // its figures may come later in pd.Changed
			}
		} else {
			fill(m, k.facts)
			k.own = d.gen
		}
		if m == nil {
			return nil, false, fmt.Errorf("%w: pid %d", ErrUnknownPID, pid)
		}
		procs[i], d.at[i] = m, k
		// m holds the same static facts: keep one message per process,
		// not the one off the wire beside it. Kept at once, so a PID
		// the order names twice is the same process both times.
		k.facts, k.last = m, m
	}
	return procs, changed != nil || next == len(pd.Changed), nil
}

// columns checks c against an order of n processes and repairs its values
// (Figure) before anything of the delta is taken.
func (d *Decoder) columns(c *gpumonv1.FigureColumns, n int) error {
	if c == nil {
		return nil
	}
	for _, col := range []struct {
		name   string
		at     []uint32
		values []float64
	}{
		{"cpu_percent", c.CpuPercentAt, c.CpuPercent},
		{"memory_percent", c.MemoryPercentAt, c.MemoryPercent},
		{"rss", c.RssAt, c.Rss},
	} {
		if len(col.at) != len(col.values) {
			return fmt.Errorf("%w: %d positions for %d values of %s", ErrMalformed, len(col.at), len(col.values), col.name)
		}
		for _, at := range col.at {
			if int(at) >= n {
				return fmt.Errorf("%w: %s at position %d of %d processes", ErrMalformed, col.name, at, n)
			}
		}
		if d.Figure != nil {
			for i, v := range col.values {
				col.values[i] = d.Figure(v)
			}
		}
	}
	return nil
}

// apply sets the values of c (checked by columns) in the processes of the
// last rebuild, procs. A process that is an earlier report's is copied
// first: reports never change once rebuilt.
func (d *Decoder) apply(c *gpumonv1.FigureColumns, procs []*gpumonv1.Process) {
	own := func(at uint32) *gpumonv1.Process {
		k := d.at[at]
		if k.own != d.gen {
			p := copyProcess(k.last)
			k.facts, k.last, k.own = p, p, d.gen
		}
		procs[at] = k.last
		return k.last
	}
	for i, at := range c.CpuPercentAt {
		own(at).CpuPercent = c.CpuPercent[i]
	}
	for i, at := range c.MemoryPercentAt {
		own(at).MemoryPercent = c.MemoryPercent[i]
	}
	for i, at := range c.RssAt {
		own(at).Rss = c.Rss[i]
	}
	if d.twice { // a PID named twice is the same process both times
		for i, k := range d.at {
			procs[i] = k.last
		}
	}
}
