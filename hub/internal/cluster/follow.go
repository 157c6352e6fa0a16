package cluster

import (
	"context"
	"encoding/base64"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/validate"
)

// follow mirrors the bucket into the fleet until ctx is done, the watch
// ends or the NATS connection came back (the caller watches anew: a watch
// across an outage may have missed updates).
func (c *Cluster) follow(ctx context.Context, kv jetstream.KeyValue, reconnected <-chan struct{}) {
	w, err := kv.WatchAll(ctx)
	if err != nil {
		c.log.Warn("cluster bucket watch failed; retrying", "err", err)
		sleep(ctx, time.Second)
		return
	}
	defer func() { _ = w.Stop() }()
	defer c.setReady(false)
	for {
		select {
		case <-ctx.Done():
			return
		case <-reconnected:
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e == nil { // every current value seen: the view is whole
				c.resetBeats()
				c.setReady(true)
				c.log.Info("cluster view complete", "bucket", c.bucket())
				continue
			}
			c.apply(e)
		}
	}
}

// apply takes one bucket entry.
func (c *Cluster) apply(e jetstream.KeyValueEntry) {
	key := e.Key()
	switch {
	case strings.HasPrefix(key, machinePrefix):
		if e.Operation() != jetstream.KeyValuePut {
			c.forgotten(key)
			return
		}
		c.mu.Lock()
		echo := e.Revision() == c.written[key]
		c.mu.Unlock()
		if echo {
			return // this hub's own write coming back: nothing to decode
		}
		c.RecordsIn.Add(1)
		c.BytesIn.Add(uint64(len(e.Value())))
		r, err := decode(key, e.Value())
		if err == nil && r.Report != nil {
			err = validate.Report(r.Report)
		}
		if err != nil {
			c.log.Warn("cluster record refused", "key", key, "err", err)
			return
		}
		c.mu.Lock()
		if e.Revision() > c.revs[key] {
			c.revs[key] = e.Revision()
		}
		claiming := c.claims[r.Key]
		if _, seen := c.beats[r.Hub]; !seen && r.Hub != c.cfg.Hub {
			c.beats[r.Hub] = time.Now()
		}
		c.mu.Unlock()
		if r.Hub == c.cfg.Hub {
			// This hub's own record: an echo, or from before a restart.
			if m, ok := c.fleet.Get(r.Key); ok && m.Held() {
				return
			}
			r.Connected = false
		}
		if m, ok := c.fleet.Get(r.Key); ok && m.Held() {
			if claiming || r.Hub == c.cfg.Hub {
				return // this hub's claim overrides it
			}
			if conn := c.fleet.Release(m); conn != nil {
				c.log.Info("machine's stream moved to another hub; ending the stream here", "key", r.Key, "to", r.Hub)
			}
		}
		c.fleet.Mirror(r, c.forwarderFor(r))
	}
}

// forgotten forgets the machine of a deleted record, unless this hub holds
// its stream (an agent connected since: its next write brings it back).
func (c *Cluster) forgotten(kvKey string) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(kvKey, machinePrefix))
	if err != nil {
		return
	}
	key := string(raw)
	c.mu.Lock()
	delete(c.revs, kvKey)
	c.mu.Unlock()
	c.mu.Lock()
	if f := c.fwd[key]; f != nil {
		f.conn.Close()
		delete(c.fwd, key)
	}
	c.mu.Unlock()
	if c.fleet.ForgetMirror(key) {
		c.log.Info("machine forgotten on another hub", "key", key)
	}
}

// Heartbeats are plain NATS messages on gpumon.<cluster>.hub.<name>: they
// need no JetStream leader, so electing a new one after a NATS node is lost
// does not make a live hub look dead.

func (c *Cluster) beatSubject(hub string) string { return "gpumon." + c.cfg.Name + ".hub." + hub }

// beat publishes this hub's heartbeat until ctx is done.
func (c *Cluster) beat(ctx context.Context, nc *nats.Conn) {
	every := max(c.cfg.Keepalive/5, 200*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		data, _ := proto.Marshal(&gpumonv1.ClusterHub{Name: c.cfg.Hub, Time: timestamppb.Now(), GrpcAddr: c.cfg.GRPCAddr, HttpAddr: c.cfg.HTTPAddr,
			Offline: c.fleet.HeldOffline()})
		if err := nc.Publish(c.beatSubject(c.cfg.Hub), data); err != nil && ctx.Err() == nil {
			c.log.Debug("cluster heartbeat failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// word is what a hub's latest heartbeat said of the machines it holds.
type word struct {
	at      time.Time // local clock
	offline map[string]bool
}

// heard notes the heartbeats of the other hubs, and their word on which of
// their machines are offline.
func (c *Cluster) heard(nc *nats.Conn) (*nats.Subscription, error) {
	prefix := c.beatSubject("")
	return nc.Subscribe(prefix+"*", func(msg *nats.Msg) {
		name := strings.TrimPrefix(msg.Subject, prefix)
		if name == c.cfg.Hub {
			return
		}
		now := time.Now()
		c.mu.Lock()
		c.beats[name] = now
		c.mu.Unlock()
		var hb gpumonv1.ClusterHub
		if err := proto.Unmarshal(msg.Data, &hb); err != nil {
			c.log.Warn("cluster heartbeat refused", "from", name, "err", err)
			return
		}
		offline := make(map[string]bool, len(hb.GetOffline()))
		for _, k := range hb.GetOffline() {
			offline[k] = true
		}
		c.wmu.Lock()
		c.words[name] = word{at: now, offline: offline}
		c.wmu.Unlock()
	})
}

// holderSays is whether hub, which holds the machine under key, judges it
// online; known is false when no heartbeat of hub came within the keepalive
// window.
func (c *Cluster) holderSays(hub, key string) (online, known bool) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	w, ok := c.words[hub]
	if !ok || time.Since(w.at) > c.cfg.Keepalive {
		return false, false
	}
	return !w.offline[key], true
}

// watchDead marks the machines of hubs whose heartbeat stopped as
// reconnecting. Nothing is judged while this hub's own view is not whole.
func (c *Cluster) watchDead(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !c.ready.Load() {
			continue
		}
		now := time.Now()
		var dead []string
		c.mu.Lock()
		for name, at := range c.beats {
			if now.Sub(at) > c.cfg.Keepalive {
				dead = append(dead, name)
			}
		}
		c.mu.Unlock()
		for _, name := range dead {
			if n := c.fleet.MarkReconnecting(name); n > 0 {
				c.log.Warn("hub stopped answering; its machines are reconnecting", "dead_hub", name, "machines", n)
			}
			c.dropForwarders(name)
		}
	}
}

// resetBeats restarts every hub's keepalive window (after this hub's own
// view was interrupted).
func (c *Cluster) resetBeats() {
	now := time.Now()
	c.mu.Lock()
	for name := range c.beats {
		c.beats[name] = now
	}
	c.mu.Unlock()
}
