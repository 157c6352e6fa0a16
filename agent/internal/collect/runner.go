package collect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// DefaultTimeout bounds one collector's run.
const DefaultTimeout = 1500 * time.Millisecond

// Runner runs a set of collectors.
type Runner struct {
	entries []*entry
	timeout time.Duration
	log     *slog.Logger
	now     func() time.Time
}

type entry struct {
	c Collector
	// busy is held while a run is in flight; a run that overran its timeout
	// keeps it until it really returns, and the collector is skipped until then.
	busy sync.Mutex
	// unavailableLogged makes "unavailable" a one-time log line.
	unavailableLogged bool
}

// NewRunner returns a runner for cs. timeout <= 0 means DefaultTimeout.
func NewRunner(log *slog.Logger, timeout time.Duration, cs ...Collector) *Runner {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Runner{timeout: timeout, log: log, now: time.Now}
	for _, c := range cs {
		r.entries = append(r.entries, &entry{c: c})
	}
	return r
}

// Collect runs every collector once, concurrently, and merges the results.
// The report's hostname, machine id and versions are left to the caller.
func (r *Runner) Collect(ctx context.Context) *gpumonv1.Report {
	start := r.now()
	parts := make([]*Sample, len(r.entries))
	statuses := make([]*gpumonv1.CollectorStatus, len(r.entries))
	var wg sync.WaitGroup
	for i, e := range r.entries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[i], statuses[i] = r.run(ctx, e)
		}()
	}
	wg.Wait()
	var s Sample
	for _, p := range parts {
		if p != nil {
			s.absorb(p)
		}
	}
	rep := Merge(&s)
	rep.Timestamp = timestamppb.New(start)
	rep.Collectors = statuses
	return rep
}

// run runs one collector with the timeout. It returns the collector's part
// only if it finished in time.
func (r *Runner) run(ctx context.Context, e *entry) (*Sample, *gpumonv1.CollectorStatus) {
	st := &gpumonv1.CollectorStatus{Name: e.c.Name()}
	if !e.busy.TryLock() {
		st.State = gpumonv1.CollectorState_COLLECTOR_STATE_TIMEOUT
		st.Message = "previous run has not finished"
		return nil, st
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	part := new(Sample)
	done := make(chan error, 1)
	began := time.Now()
	go func() {
		defer e.busy.Unlock()
		done <- e.c.Collect(ctx, part)
	}()
	select {
	case err := <-done:
		st.DurationSeconds = time.Since(began).Seconds()
		return r.outcome(e, st, part, err)
	case <-ctx.Done():
		st.DurationSeconds = time.Since(began).Seconds()
		st.State = gpumonv1.CollectorState_COLLECTOR_STATE_TIMEOUT
		st.Message = fmt.Sprintf("no answer within %s", r.timeout)
		r.log.Warn("collector timed out", "collector", e.c.Name(), "timeout", r.timeout)
		return nil, st
	}
}

func (r *Runner) outcome(e *entry, st *gpumonv1.CollectorStatus, part *Sample, err error) (*Sample, *gpumonv1.CollectorStatus) {
	switch {
	case err == nil:
		st.State = gpumonv1.CollectorState_COLLECTOR_STATE_OK
		return part, st
	case errors.Is(err, ErrUnavailable):
		st.State = gpumonv1.CollectorState_COLLECTOR_STATE_UNAVAILABLE
		st.Message = err.Error()
		if !e.unavailableLogged {
			e.unavailableLogged = true
			r.log.Info("collector unavailable", "collector", e.c.Name(), "reason", err)
		}
		return part, st
	default:
		st.State = gpumonv1.CollectorState_COLLECTOR_STATE_ERROR
		st.Message = err.Error()
		r.log.Debug("collector failed", "collector", e.c.Name(), "err", err)
		// A collector may report a partial result together with an error
		// (one GPU broken, the others read).
		return part, st
	}
}
