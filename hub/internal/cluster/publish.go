package cluster

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/gpumon/gpumon/hub/internal/fleet"
)

var errNotReady = errors.New("cluster bucket not reachable")

// Attached notes that this hub took m's stream, and that the cluster holds
// its snapshots up to lastSeq: the next write claims the machine, whichever
// hub the bucket says holds it (the agent has one stream at a time, and it
// chose this hub).
func (c *Cluster) Attached(m *fleet.Machine, lastSeq uint64) {
	c.mu.Lock()
	c.claims[m.Key] = true
	c.committed[m.Key] = lastSeq
	c.mu.Unlock()
}

// Commit writes m's record and returns once the bucket holds it: every
// snapshot up to the acknowledged sequence number in it is then known to
// the cluster. While the bucket is unreachable it retries until ctx is done.
// ErrMoved: another hub holds the machine now.
func (c *Cluster) Commit(ctx context.Context, m *fleet.Machine, seq uint64) error {
	c.mu.Lock()
	c.committed[m.Key] = max(c.committed[m.Key], seq)
	c.mu.Unlock()
	for {
		err := c.write(ctx, m, false)
		if err == nil || errors.Is(err, ErrMoved) || ctx.Err() != nil {
			return err
		}
		c.log.Debug("cluster record not written; retrying", "key", m.Key, "err", err)
		sleep(ctx, 500*time.Millisecond)
	}
}

// Detached publishes that m's stream here ended, unless another hub took it
// over meanwhile. Best effort, bounded.
func (c *Cluster) Detached(m *fleet.Machine) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.mu.Lock()
	delete(c.claims, m.Key)
	c.mu.Unlock()
	if err := c.write(ctx, m, true); err != nil && !errors.Is(err, ErrMoved) {
		c.log.Debug("cluster record of an ended stream not written", "key", m.Key, "err", err)
	}
}

// Forget deletes m's record: every hub forgets the machine. Best effort,
// bounded (a hub that misses it lists the machine until forgotten there).
func (c *Cluster) Forget(m *fleet.Machine) {
	kv := c.store()
	if kv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := kv.Delete(ctx, machineKV(m.Key)); err != nil {
		c.log.Warn("forgotten machine's cluster record not deleted", "key", m.Key, "err", err)
	}
}

// write puts m's record with compare-and-set on the newest revision seen.
// When another hub wrote meanwhile, a claim (this hub just took the stream)
// writes over it; otherwise the machine moved.
func (c *Cluster) write(ctx context.Context, m *fleet.Machine, detached bool) error {
	kv := c.store()
	if kv == nil {
		return errNotReady
	}
	key := machineKV(m.Key)
	for range 5 {
		if !detached && !m.Held() {
			return ErrMoved
		}
		r, ok := c.fleet.RemoteOf(m)
		if !ok || r.Hub != c.cfg.Hub {
			return nil
		}
		c.mu.Lock()
		rev, claim := c.revs[key], c.claims[m.Key]
		// What is in history for sure: the fleet counts a snapshot once it
		// is appended here, before a shared store has it.
		if seq, ok := c.committed[m.Key]; ok && seq < r.LastSeq {
			r.LastSeq = seq
		}
		c.mu.Unlock()
		data, err := encode(r)
		if err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		newRev, err := kv.Update(wctx, key, data, rev)
		cancel()
		if err == nil {
			c.mu.Lock()
			c.revs[key] = max(c.revs[key], newRev)
			c.written[key] = newRev
			if claim && !detached {
				delete(c.claims, m.Key)
			}
			c.mu.Unlock()
			c.BytesOut.Add(uint64(len(data)))
			c.Records.Add(1)
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) && !errors.Is(err, jetstream.ErrKeyExists) {
			return err
		}
		if err := c.reread(ctx, kv, key, claim && !detached); err != nil {
			return err
		}
	}
	return errors.New("cluster record of " + m.Key + ": the bucket kept changing under the write")
}

// reread takes the bucket's current record after a failed compare-and-set.
func (c *Cluster) reread(ctx context.Context, kv jetstream.KeyValue, key string, claim bool) error {
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	e, err := kv.Get(wctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		c.mu.Lock()
		c.revs[key] = 0
		c.mu.Unlock()
		return nil
	}
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.revs[key] = e.Revision()
	c.mu.Unlock()
	other, err := decode(key, e.Value())
	if err != nil || other.Hub == c.cfg.Hub || claim {
		return nil // unreadable or this hub's own: write over it
	}
	return ErrMoved
}
