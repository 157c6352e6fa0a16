package history

import (
	"math"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// lookback is how far back PromQL looks for a series' latest sample (the
// engine's LookbackDelta); a series with none in it is not returned anyway.
const lookback = 5 * time.Minute

// floorHorizon bounds the search for a machine's newest recorded time.
// Samples further back are outside what the TSDB's head accepts in order.
const floorHorizon = 3 * time.Hour

// floorOf is the newest time recorded for a machine, read from the TSDB
// after a (re)open and kept up to date after. Caller holds ms.mu.
func (s *Store) floorOf(ms *machineState, key string) int64 {
	gen := s.gen.Load()
	if ms.floorGen == gen {
		return ms.floor
	}
	ms.floor, ms.floorGen = noFloor, gen
	mint := time.Now().Add(-floorHorizon).UnixMilli()
	s.each(mint, math.MaxInt64, func(t int64, _ float64) {
		ms.floor = max(ms.floor, t)
	}, labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, MachineOnline),
		labels.MustNewMatcher(labels.MatchEqual, "machine", key))
	return ms.floor
}

// holds reports whether history has the machine's snapshot seq between
// from and to.
func (s *Store) holds(key string, seq uint64, from, to int64) bool {
	found := false
	s.each(from, to, func(_ int64, v float64) {
		found = found || v == float64(seq)
	}, labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, AgentSeq),
		labels.MustNewMatcher(labels.MatchEqual, "machine", key))
	return found
}

// each calls fn for every float sample of the series matching ms in
// [mint, maxt]. Errors leave it silent: callers fall back to appending.
func (s *Store) each(mint, maxt int64, fn func(t int64, v float64), ms ...*labels.Matcher) {
	q, err := s.Queryable().Querier(mint, maxt)
	if err != nil {
		return
	}
	defer q.Close()
	set := q.Select(ctxBackground, false, nil, ms...)
	var it chunkenc.Iterator
	for set.Next() {
		it = set.At().Iterator(it)
		for it.Next() == chunkenc.ValFloat {
			fn(it.At())
		}
	}
}

// MarkOffline ends a machine's series as Prometheus ends a target's: its
// online series becomes 0 and every other series gets a staleness marker, so
// PromQL stops counting it. They are written 1 ms after its newest sample,
// not at the time the hub noticed: samples it replays after reconnecting
// are newer, so they follow the markers in order.
// A machine back online by the time the markers would be written gets none.
func (s *Store) MarkOffline(m *fleet.Machine) { s.markStale(m, false) }

// markStale writes the markers; all also ends the online series.
func (s *Store) markStale(m *fleet.Machine, all bool) {
	if s.Err() != nil {
		return
	}
	key := m.Key
	ms := s.machine(key)
	ms.mu.Lock()
	defer ms.mu.Unlock()
	// Under ms.mu: a sample recorded after this check follows the markers.
	if st := m.State(); st != nil && st.Online {
		return
	}
	floor := s.floorOf(ms, key)
	if floor == noFloor {
		return
	}
	var out []sample
	for _, lset := range s.seriesOf(key, floor-lookback.Milliseconds(), floor) {
		v := math.Float64frombits(value.StaleNaN)
		if !all && lset.Get(labels.MetricName) == MachineOnline {
			v = 0
		}
		out = append(out, sample{lset: lset, value: v})
	}
	if len(out) > 0 && s.append(floor+1, out) == nil {
		ms.floor = floor + 1
	}
}

// seriesOf lists a machine's series with samples in [mint, maxt].
func (s *Store) seriesOf(key string, mint, maxt int64) []labels.Labels {
	q, err := s.Queryable().Querier(mint, maxt)
	if err != nil {
		return nil
	}
	defer q.Close()
	hints := &storage.SelectHints{Start: mint, End: maxt, Func: "series"}
	set := q.Select(ctxBackground, false, hints, labels.MustNewMatcher(labels.MatchEqual, "machine", key),
		labels.MustNewMatcher(labels.MatchNotEqual, labels.MetricName, MachineUp)) // the hub's, by its clock: see FollowUp
	var out []labels.Labels
	for set.Next() {
		out = append(out, set.At().Labels())
	}
	return out
}
