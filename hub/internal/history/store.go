package history

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"google.golang.org/protobuf/types/known/timestamppb"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// DefaultRetention is how long samples are kept unless told otherwise.
const DefaultRetention = 15 * 24 * time.Hour

// Options configures the store.
type Options struct {
	Retention time.Duration
	// BlockDuration is the TSDB's block size (default 2 h; tests use less).
	BlockDuration time.Duration
	// Forward receives every appended sample too (remote write); may be nil.
	Forward func(lset labels.Labels, t int64, v float64)
	Log     *slog.Logger
}

// Store is the embedded history.
type Store struct {
	db       *tsdb.DB
	engine   *promql.Engine
	opts     Options
	machines sync.Map // key → *machineState
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
	topts := tsdb.DefaultOptions()
	topts.RetentionDuration = o.Retention.Milliseconds()
	// Agents replay up to their buffer (10 min by default) after an outage;
	// allow samples that much older than a series' newest.
	topts.OutOfOrderTimeWindow = (30 * time.Minute).Milliseconds()
	if o.BlockDuration > 0 {
		topts.MinBlockDuration = o.BlockDuration.Milliseconds()
		topts.MaxBlockDuration = o.BlockDuration.Milliseconds()
	}
	db, err := tsdb.Open(filepath.Clean(dir), o.Log.With("component", "tsdb"), nil, topts, nil)
	if err != nil {
		return nil, fmt.Errorf("open history in %s: %w", dir, err)
	}
	engine := promql.NewEngine(promql.EngineOpts{
		Logger: o.Log.With("component", "promql"), MaxSamples: 50_000_000, Timeout: 2 * time.Minute,
		LookbackDelta: 5 * time.Minute, EnableAtModifier: true, EnableNegativeOffset: true,
	})
	return &Store{db: db, engine: engine, opts: o, log: o.Log}, nil
}

// Close flushes and closes the store.
func (s *Store) Close() error { return s.db.Close() }

// DB is the underlying TSDB (tests).
func (s *Store) DB() *tsdb.DB { return s.db }

// Queryable is the store for PromQL.
func (s *Store) Queryable() storage.Queryable { return s.db }

// Engine is the PromQL engine over the store.
func (s *Store) Engine() *promql.Engine { return s.engine }

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

// Record appends one report's samples at the report's own time. seq, the
// agent's sequence number (0 for posted reports), is kept as the series
// gpumon_agent_seq, so gaps and duplicates in what reached the hub show.
func (s *Store) Record(m *fleet.Machine, r *gpumonv1.Report, seq uint64) {
	t := r.GetTimestamp().AsTime()
	base := machineLabels(m.Key, m.Hostname)
	out := make([]sample, 0, 24*len(r.GetGpuData())+32)
	for _, g := range r.GetGpuData() {
		out = gpuSamples(out, base, g)
	}
	out = machineSamples(out, base, r.GetSystemInfo())
	out = append(out, sample{series(MachineOnline, base), 1})
	if seq > 0 {
		out = append(out, sample{series(AgentSeq, base), float64(seq)})
	}
	interval := time.Duration(r.GetIntervalSeconds() * float64(time.Second))
	if st := m.State(); st != nil && interval <= 0 {
		interval = st.Interval
	}
	out = s.machine(m.Key).account(out, base, r, t, interval)
	s.append(t.UnixMilli(), out)
}

// RecordStatus appends a machine's online state (for offline transitions,
// which have no sample of their own).
func (s *Store) RecordStatus(m *fleet.Machine, online bool, t time.Time) {
	v := 0.0
	if online {
		v = 1
	}
	s.append(t.UnixMilli(), []sample{{series(MachineOnline, machineLabels(m.Key, m.Hostname)), v}})
}

func (s *Store) append(t int64, samples []sample) {
	app := s.db.Appender(context.Background())
	var failed uint64
	for _, smp := range samples {
		if _, err := app.Append(0, smp.lset, t, smp.value); err != nil {
			failed++
			if !errors.Is(err, storage.ErrDuplicateSampleForTimestamp) {
				s.log.Debug("append sample", "series", smp.lset.String(), "err", err)
			}
			continue
		}
		if s.opts.Forward != nil {
			s.opts.Forward(smp.lset, t, smp.value)
		}
	}
	if err := app.Commit(); err != nil {
		s.log.Error("commit samples", "err", err)
		s.failed.Add(uint64(len(samples)))
		return
	}
	s.failed.Add(failed)
	s.appended.Add(uint64(len(samples)) - failed)
}

// Follow appends online/offline transitions from the fleet's events until
// ctx is done.
func (s *Store) Follow(ctx context.Context, f *fleet.Fleet) {
	sub := f.Events().Subscribe(4096)
	defer sub.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-sub.C:
			if ev.Type == gpumonv1.WatchEventType_WATCH_EVENT_TYPE_STATUS && ev.State != nil && !ev.State.Online {
				s.RecordStatus(ev.Machine, false, time.Now())
			}
		}
	}
}

// RecordHub appends the hub's own figures (name → value, no labels), so a
// dashboard that uses the hub as its data source can chart the hub too.
func (s *Store) RecordHub(values map[string]float64, t time.Time) {
	out := make([]sample, 0, len(values))
	for name, v := range values {
		out = append(out, sample{series(name, nil), v})
	}
	s.append(t.UnixMilli(), out)
}

// Forget drops a machine's accounting state.
func (s *Store) Forget(key string) { s.machines.Delete(key) }

func itoa(i int32) string { return strconv.Itoa(int(i)) }

func timestamp(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }
