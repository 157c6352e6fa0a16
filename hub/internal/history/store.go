package history

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// DefaultRetention is how long samples are kept unless told otherwise.
const DefaultRetention = 15 * 24 * time.Hour

// LookbackDelta is the PromQL engine's, Prometheus's default. Its other
// settings are QueryLimits.
const LookbackDelta = 5 * time.Minute

// Options configures the store.
type Options struct {
	Retention time.Duration
	// BlockDuration is the TSDB's block size (default 2 h; tests use less).
	BlockDuration time.Duration
	// Forward receives every committed sample too, in order per series
	// (remote write); may be nil.
	Forward func(lset labels.Labels, t int64, v float64)
	// RecoverEvery is how often a failed store checks whether it can write
	// again (default 5 s).
	RecoverEvery time.Duration
	// Query bounds PromQL work; zero fields take the defaults.
	Query QueryLimits
	Log   *slog.Logger
}

// Store is the embedded history.
//
// Every series receives its samples in time order: a machine's samples are
// recorded at strictly increasing times (see Record), so the TSDB takes no
// out-of-order samples and remote write never sends one.
//
// A failed commit (disk full) puts the store in a failed state: appends are
// refused at once, so nothing is acknowledged, until it can write again and
// has been reopened. Reopening replays the WAL and repairs the record the
// failed write tore at its end; as nothing was appended after it, no
// acknowledged sample is behind it.
type Store struct {
	dir      string
	topts    *tsdb.Options
	engine   *promql.Engine
	parser   parser.Parser
	opts     Options
	mu       sync.RWMutex // db: appends and queriers share it; reopening takes it alone
	db       *tsdb.DB
	gen      atomic.Uint64 // counts opens; machine floors are re-read after a reopen
	failure  atomic.Pointer[error]
	closing  chan struct{}
	machines sync.Map // key → *machineState
	hubFloor atomic.Int64
	up       upTimes
	appended atomic.Uint64
	failed   atomic.Uint64
	log      *slog.Logger
}

// Open opens (or creates) the store in dir.
func Open(dir string, o Options) (*Store, error) {
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.RecoverEvery <= 0 {
		o.RecoverEvery = 5 * time.Second
	}
	topts := tsdb.DefaultOptions()
	topts.RetentionDuration = o.Retention.Milliseconds()
	// Samples reach each series in order (replays included: they follow
	// what the hub holds), so out-of-order ingestion stays off: a sample
	// behind its series is refused, never stored.
	topts.OutOfOrderTimeWindow = 0
	if o.BlockDuration > 0 {
		topts.MinBlockDuration = o.BlockDuration.Milliseconds()
		topts.MaxBlockDuration = o.BlockDuration.Milliseconds()
	}
	s := &Store{dir: filepath.Clean(dir), topts: topts, opts: o, log: o.Log, closing: make(chan struct{})}
	if err := s.open(); err != nil {
		return nil, fmt.Errorf("open history in %s: %w", dir, err)
	}
	o.Query = o.Query.withDefaults()
	s.opts.Query = o.Query
	s.parser = limitedParser{Parser: parser.NewParser(parser.Options{}), maxLength: o.Query.MaxLength}
	s.engine = promql.NewEngine(promql.EngineOpts{
		Logger: o.Log.With("component", "promql"), MaxSamples: o.Query.MaxSamples, Timeout: o.Query.Timeout,
		ActiveQueryTracker: make(slots, o.Query.MaxConcurrency), Parser: s.parser,
		LookbackDelta: LookbackDelta, EnableAtModifier: true, EnableNegativeOffset: true,
	})
	return s, nil
}

// open opens the TSDB; caller holds s.mu (or is Open).
func (s *Store) open() error {
	db, err := tsdb.Open(s.dir, s.log.With("component", "tsdb"), nil, s.topts, nil)
	if err != nil {
		return err
	}
	s.db = db
	s.gen.Add(1)
	return nil
}

// Close flushes and closes the store.
func (s *Store) Close() error {
	close(s.closing)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	return err
}

// DB is the underlying TSDB (tests); nil while it is being reopened.
func (s *Store) DB() *tsdb.DB {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db
}

// Queryable is the store for PromQL.
func (s *Store) Queryable() storage.Queryable { return queryable{s} }

// Engine is the PromQL engine over the store.
func (s *Store) Engine() *promql.Engine { return s.engine }

// Parser is the engine's parser, with the query size limits.
func (s *Store) Parser() parser.Parser { return s.parser }

// QueryLimits are the limits the engine applies.
func (s *Store) QueryLimits() QueryLimits { return s.opts.Query }

// Appended and Failed count samples.
func (s *Store) Appended() uint64 { return s.appended.Load() }

// Failed counts samples the TSDB refused.
func (s *Store) Failed() uint64 { return s.failed.Load() }

func (s *Store) machine(key string) *machineState {
	if v, ok := s.machines.Load(key); ok {
		return v.(*machineState)
	}
	v, _ := s.machines.LoadOrStore(key, newMachineState())
	return v.(*machineState)
}

// Record appends one report's samples at the report's own time (the fleet
// has already replaced a time out of range by its receive time). seq, the
// agent's sequence number (0 for posted reports), is kept as the series
// gpumon_agent_seq, so gaps and duplicates in what reached the hub show.
//
// A machine's samples are recorded at strictly increasing times: a sample
// at or behind the newest recorded one is either a snapshot history holds
// already (a replay after the hub lost track of what it acknowledged: it is
// skipped) or is recorded 1 ms after the newest. Record returns nil once the
// samples are committed (or held already): the snapshot is then durable.
func (s *Store) Record(m *fleet.Machine, r *gpumonv1.Report, seq uint64) error {
	if err := s.Err(); err != nil {
		return err
	}
	ms := s.machine(m.Key)
	ms.mu.Lock()
	defer ms.mu.Unlock()
	floor := s.floorOf(ms, m.Key)
	t := r.GetTimestamp().AsTime().UnixMilli()
	if t <= floor {
		if seq > 0 && s.holds(m.Key, seq, t, floor) {
			return nil
		}
		t = floor + 1
	}
	if ms.series == nil {
		ms.series = newSeriesCache(m.Key, m.Hostname)
	}
	c := ms.series
	buf := getSamples(40*len(r.GetGpuData()) + 32)
	defer putSamples(buf)
	out := (*buf)[:0]
	for _, g := range r.GetGpuData() {
		out = gpuSamples(out, c, g, r.GetDriverVersion())
	}
	out = machineSamples(out, c, r.GetSystemInfo())
	out = append(out, c.sample(MachineOnline, nil, 1))
	if seq > 0 {
		out = append(out, c.sample(AgentSeq, nil, float64(seq)))
	}
	interval := time.Duration(r.GetIntervalSeconds() * float64(time.Second))
	if st := m.State(); st != nil && interval <= 0 {
		interval = st.Interval
	}
	out = ms.account(out, c, r, time.UnixMilli(t), interval)
	*buf = out // grown or not, the pool takes it back
	c.done()
	if err := s.append(t, out); err != nil {
		return err
	}
	ms.floor = t
	return nil
}

// samplePool holds the buffers Record builds a snapshot's samples in (a
// snapshot of 8 GPUs is some 350 samples, 14 KB): they live only until the
// commit, so one buffer per concurrent Record is enough for the whole fleet.
var samplePool sync.Pool

// maxPooledSamples bounds a buffer the pool keeps: one grown by an outsized
// report is let go.
const maxPooledSamples = 4096

func getSamples(n int) *[]sample {
	if b, ok := samplePool.Get().(*[]sample); ok {
		return b
	}
	b := make([]sample, 0, n)
	return &b
}

// putSamples clears b (a pooled buffer holds no series alive) and gives it
// back.
func putSamples(b *[]sample) {
	if cap(*b) > maxPooledSamples {
		return
	}
	clear(*b) // past its length, a buffer is as clear as when it grew
	*b = (*b)[:0]
	samplePool.Put(b)
}

// append commits samples at t, then forwards them. A per-sample refusal is
// counted and logged at debug; a failed commit fails the store.
func (s *Store) append(t int64, samples []sample) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return errReopening
	}
	app := s.db.Appender(context.Background())
	// Only what the TSDB took is forwarded (after the commit): a refused
	// sample must not reach remote write either.
	var stored []sample
	if s.opts.Forward != nil {
		stored = make([]sample, 0, len(samples))
	}
	refused := 0
	gen := s.gen.Load() // a reference is only good in the TSDB that gave it
	for _, smp := range samples {
		var ref storage.SeriesRef
		if k := smp.kept; k != nil && k.gen == gen {
			ref = k.ref
		}
		got, err := app.Append(ref, smp.lset, t, smp.value)
		if k := smp.kept; k != nil && got != 0 {
			k.ref, k.gen = got, gen
		}
		if err != nil {
			refused++
			if !errors.Is(err, storage.ErrDuplicateSampleForTimestamp) {
				s.log.Debug("append sample", "series", smp.lset.String(), "err", err)
			}
			continue
		}
		if stored != nil {
			stored = append(stored, smp)
		}
	}
	if err := app.Commit(); err != nil {
		s.failed.Add(uint64(len(samples)))
		s.fail(err)
		return s.Err()
	}
	s.failed.Add(uint64(refused))
	s.appended.Add(uint64(len(samples) - refused))
	for _, smp := range stored {
		s.opts.Forward(smp.lset, t, smp.value)
	}
	return nil
}

// Follow writes offline markers (see MarkOffline) from the fleet's events
// until ctx is done; at the start, for machines that come back from the
// registry offline while PromQL would still count them.
func (s *Store) Follow(ctx context.Context, f *fleet.Fleet) {
	sub := f.Events().Subscribe(4096)
	defer sub.Close()
	for _, m := range f.List() {
		if st := m.State(); st != nil && !st.Online && time.Since(st.LastSeen) < lookback {
			s.MarkOffline(m)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-sub.C:
			if ev.Type == gpumonv1.WatchEventType_WATCH_EVENT_TYPE_STATUS && ev.State != nil && !ev.State.Online {
				s.MarkOffline(ev.Machine)
			}
		}
	}
}

// RecordHub appends the hub's own figures (name → value, no labels), so a
// dashboard that uses the hub as its data source can chart the hub too.
func (s *Store) RecordHub(values map[string]float64, t time.Time) {
	if s.Err() != nil {
		return
	}
	ms := max(t.UnixMilli(), s.hubFloor.Load()+1)
	out := make([]sample, 0, len(values))
	for name, v := range values {
		out = append(out, sample{lset: series(name, nil), value: v})
	}
	if s.append(ms, out) == nil {
		s.hubFloor.Store(ms)
	}
}

// Forget writes staleness markers for every series of a forgotten machine
// and drops its accounting state.
func (s *Store) Forget(m *fleet.Machine) {
	s.markStale(m, true)
	s.machines.Delete(m.Key)
}

var noFloor = int64(math.MinInt64)
