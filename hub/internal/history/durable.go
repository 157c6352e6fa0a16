package history

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/prometheus/storage"
)

var ctxBackground = context.Background()

// errReopening is returned while the TSDB is closed for reopening.
var errReopening = errors.New("history store is being reopened")

// probeBytes is the free space the store needs before it reopens.
const probeBytes = 1 << 20

// Err is nil while the store takes appends; else it says why not.
func (s *Store) Err() error {
	if p := s.failure.Load(); p != nil {
		return *p
	}
	return nil
}

// fail puts the store in the failed state after a failed commit and starts
// recovering.
func (s *Store) fail(cause error) {
	err := fmt.Errorf("history store cannot write, so snapshots are not acknowledged: %w", cause)
	if s.failure.CompareAndSwap(nil, &err) {
		s.log.Error("history store failed; snapshots are kept by the agents until it recovers", "err", cause)
		go s.recoverWhenWritable()
	}
}

// recoverWhenWritable waits until the data directory takes writes again,
// then reopens the TSDB and takes appends again.
func (s *Store) recoverWhenWritable() {
	for {
		select {
		case <-s.closing:
			return
		case <-time.After(s.opts.RecoverEvery):
		}
		if err := probe(s.dir); err != nil {
			s.log.Debug("history store still cannot write", "err", err)
			continue
		}
		if err := s.reopen(); err != nil {
			s.log.Warn("reopen history store", "err", err)
			continue
		}
		s.failure.Store(nil)
		s.log.Info("history store recovered; agents replay what was not acknowledged")
		return
	}
}

// reopen closes and opens the TSDB. Opening replays the WAL and cuts it at
// the record the failed write tore.
func (s *Store) reopen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.closing:
		return errors.New("store closed")
	default:
	}
	if s.db != nil {
		if err := s.db.Close(); err != nil {
			s.log.Warn("close history store before reopening", "err", err)
		}
		s.db = nil
	}
	return s.open()
}

// probe writes and removes probeBytes in dir.
func probe(dir string) error {
	path := filepath.Join(dir, ".space-probe")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	_, err = f.Write(make([]byte, probeBytes))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// queryable hands out queriers of the current TSDB. Each holds the store's
// read lock until it is closed, so the TSDB is never reopened under a query.
type queryable struct{ s *Store }

func (q queryable) Querier(mint, maxt int64) (storage.Querier, error) {
	q.s.mu.RLock()
	if q.s.db == nil {
		q.s.mu.RUnlock()
		return nil, errReopening
	}
	inner, err := q.s.db.Querier(mint, maxt)
	if err != nil {
		q.s.mu.RUnlock()
		return nil, err
	}
	return &lockedQuerier{Querier: inner, unlock: sync.OnceFunc(q.s.mu.RUnlock)}, nil
}

type lockedQuerier struct {
	storage.Querier
	unlock func()
}

func (l *lockedQuerier) Close() error {
	err := l.Querier.Close()
	l.unlock()
	return err
}
