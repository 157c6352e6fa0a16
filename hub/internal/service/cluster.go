package service

import (
	"context"
	"errors"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// Cluster is this hub's membership of a cluster (hub/internal/cluster):
// the machines whose streams it holds are published to the other hubs, and
// a snapshot is acknowledged only once the cluster knows it.
type Cluster interface {
	// Attached: this hub took m's stream; the cluster holds m's snapshots
	// up to lastSeq (what the agent was told in Welcome).
	Attached(m *fleet.Machine, lastSeq uint64)
	// Commit publishes m's current state with seq as the newest snapshot
	// in history; it returns once the cluster holds it, or with an error
	// when another hub holds m now (or ctx is done).
	Commit(ctx context.Context, m *fleet.Machine, seq uint64) error
	// Detached: m's stream here ended.
	Detached(m *fleet.Machine)
}

// Delivery is the queue of a shared history store (remote write): in a
// cluster a snapshot is acknowledged only once its samples left it, so
// that an agent moving to another hub never skips a sample the store lacks.
type Delivery interface {
	// Queued counts the samples queued so far.
	Queued() uint64
	// WaitSent returns once the first n queued samples were sent.
	WaitSent(ctx context.Context, n uint64) error
}

// committer collapses the snapshots waiting for the cluster into the
// newest: one publish covers them all. mark is the delivery queue's count
// after the newest snapshot's samples were queued.
type committer struct {
	mu        sync.Mutex
	seq, mark uint64
	notify    chan struct{}
}

func newCommitter(seq uint64) *committer {
	return &committer{seq: seq, notify: make(chan struct{}, 1)}
}

func (c *committer) offer(seq, mark uint64) {
	c.mu.Lock()
	c.seq, c.mark = max(c.seq, seq), max(c.mark, mark)
	c.mu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

func (c *committer) want() (seq, mark uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seq, c.mark
}

// commit publishes m when the stream starts (the claim) and after each
// recorded snapshot, and acknowledges what each publish covered. It ends
// the stream when another hub took the machine over.
func (a *Agents) commit(ctx context.Context, m *fleet.Machine, cm *committer, out *outbox) error {
	var done uint64
	for {
		seq, mark := cm.want()
		err := error(nil)
		if a.Delivery != nil && mark > 0 {
			err = a.Delivery.WaitSent(ctx, mark)
		}
		if err == nil {
			err = a.Cluster.Commit(ctx, m, seq)
		}
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, context.Canceled) {
				return nil
			}
			return status.Errorf(codes.Unavailable, "machine %s: %v; reconnect", m.Key, err)
		}
		if seq > done {
			out.ack(seq)
			done = seq
		}
		select {
		case <-ctx.Done():
			return nil
		case <-cm.notify:
		}
	}
}
