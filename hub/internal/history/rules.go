package history

import (
	"context"
	"sync"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// The store is the rule engine's storage too: it reads ALERTS_FOR_STATE to
// restore alerts after a restart, and appends ALERTS, ALERTS_FOR_STATE and
// the recording rules' series.

// Querier reads the store.
func (s *Store) Querier(mint, maxt int64) (storage.Querier, error) {
	return s.Queryable().Querier(mint, maxt)
}

// AppenderV2 returns an appender that holds the store's read lock until it
// commits or rolls back, as a querier does, so the TSDB is never reopened
// under it. While the store cannot write (it failed, or is being reopened)
// its appends are refused with the reason.
func (s *Store) AppenderV2(ctx context.Context) storage.AppenderV2 {
	s.mu.RLock()
	err := s.Err()
	if err == nil && s.db == nil {
		err = errReopening
	}
	if err != nil {
		s.mu.RUnlock()
		return refusing{err}
	}
	return &lockedAppender{AppenderV2: s.db.AppenderV2(ctx), unlock: sync.OnceFunc(s.mu.RUnlock)}
}

type lockedAppender struct {
	storage.AppenderV2
	unlock func()
}

func (a *lockedAppender) Commit() error {
	defer a.unlock()
	return a.AppenderV2.Commit()
}

func (a *lockedAppender) Rollback() error {
	defer a.unlock()
	return a.AppenderV2.Rollback()
}

// refusing is the appender of a store that cannot write.
type refusing struct{ err error }

func (r refusing) Append(storage.SeriesRef, labels.Labels, int64, int64, float64, *histogram.Histogram, *histogram.FloatHistogram, storage.AppendV2Options) (storage.SeriesRef, error) {
	return 0, r.err
}

func (r refusing) Commit() error   { return r.err }
func (r refusing) Rollback() error { return nil }
