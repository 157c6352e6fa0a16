// Package cluster lets several hubs share the live fleet through NATS
// JetStream (hub --cluster-nats). The hub holding a machine's agent stream
// publishes the machine's record (registry entry and published state) to a
// key-value bucket; every hub follows the bucket and mirrors the machines
// other hubs hold into its own fleet, so any hub serves the whole fleet.
// Commands for a machine held elsewhere travel to its hub by NATS
// request/reply. Each hub publishes a heartbeat; the machines of a hub
// whose heartbeat stops are marked reconnecting.
//
// A snapshot is acknowledged to the agent only once its record, with the
// acknowledged sequence number, is in the bucket: an agent that fails over
// is told by any hub what the cluster holds, and replays the rest. While
// NATS is unreachable the hub keeps serving what it holds (degraded, said
// by Err) and acknowledges nothing; it catches up when NATS returns.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// Defaults.
const (
	DefaultName      = "gpumon"
	DefaultKeepalive = 10 * time.Second
	// Replicas of the bucket on a NATS cluster of three nodes or more.
	DefaultReplicas = 3
	// CommandTimeout bounds a command forwarded to another hub.
	CommandTimeout = 15 * time.Second
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Config configures a cluster member.
type Config struct {
	// URLs of the NATS servers (nats://host:4222).
	URLs []string
	// Name of the cluster: its bucket is gpumon_<name>.
	Name string
	// Hub is this hub's name in the cluster (unique per hub).
	Hub string
	// Keepalive: a hub whose heartbeat is older is taken for dead and its
	// machines are marked reconnecting.
	Keepalive time.Duration
	// Addresses published in the heartbeat, for people watching the cluster.
	GRPCAddr, HTTPAddr string
	Log                *slog.Logger
}

// ValidName checks a cluster or hub name.
func ValidName(what, name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%s %q: 1 to 64 letters, digits, '-' or '_'", what, name)
	}
	return nil
}

// SafeName turns a hostname into a hub name: characters ValidName refuses
// become '-'.
func SafeName(host string) string {
	out := []byte(host)
	for i, b := range out {
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_') {
			out[i] = '-'
		}
	}
	if len(out) > 64 {
		out = out[:64]
	}
	if len(out) == 0 {
		return "hub"
	}
	return string(out)
}

// Cluster is this hub's membership.
type Cluster struct {
	cfg   Config
	fleet *fleet.Fleet
	log   *slog.Logger

	nc    *nats.Conn
	kv    atomic.Pointer[jetstream.KeyValue]
	ready atomic.Bool

	mu sync.Mutex
	// revs are the newest bucket revisions seen or written per machine key;
	// claims the machines attached here whose hold is not yet written.
	revs   map[string]uint64
	claims map[string]bool
	// written: per machine key, the revision of this hub's latest write.
	written map[string]uint64
	// committed: per machine held here, the newest snapshot known to be in
	// history (shared store included); what the record publishes.
	committed map[string]uint64
	// beats: when each other hub's heartbeat was last seen (local clock).
	beats map[string]time.Time
	// fwd are the forwarding connections of machines held elsewhere.
	fwd map[string]*forwarder
	// words: per other hub, its latest heartbeat's verdict on the machines
	// it holds (under wmu: the fleet asks while publishing, and c.mu is held
	// around calls into the fleet elsewhere).
	wmu   sync.Mutex
	words map[string]word

	// Records and their bytes written and read, commands forwarded (for
	// /metrics and the bench).
	BytesOut, Records, BytesIn, RecordsIn, Forwarded atomic.Uint64
}

// ErrMoved is returned by Commit when another hub took the machine's stream
// over: the stream here is a leftover.
var ErrMoved = errors.New("machine's stream moved to another hub")

// New returns a member; Run connects it.
func New(cfg Config, f *fleet.Fleet) *Cluster {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Keepalive <= 0 {
		cfg.Keepalive = DefaultKeepalive
	}
	if cfg.Name == "" {
		cfg.Name = DefaultName
	}
	c := &Cluster{cfg: cfg, fleet: f, log: cfg.Log.With("cluster", cfg.Name, "hub", cfg.Hub),
		revs: map[string]uint64{}, claims: map[string]bool{}, committed: map[string]uint64{}, written: map[string]uint64{}, beats: map[string]time.Time{}, fwd: map[string]*forwarder{},
		words: map[string]word{}}
	f.SetHub(cfg.Hub)
	f.HoldMirrors(true)
	f.SetHolders(c.holderSays)
	return c
}

// Err is nil while the hub shares the fleet with the cluster, else why not
// (the hub is degraded: it serves the machines it holds).
func (c *Cluster) Err() error {
	if c.ready.Load() {
		return nil
	}
	return fmt.Errorf("cluster %s: NATS unreachable or bucket not ready; serving this hub's machines only", c.cfg.Name)
}

// setReady notes whether the hub's view of the cluster is whole. While it
// is not, the machines other hubs hold keep the state their hubs last
// published: this hub cannot tell a silent hub from its own lost view, and
// online and offline are the holding hub's to decide.
func (c *Cluster) setReady(v bool) {
	c.ready.Store(v)
	c.fleet.HoldMirrors(!v)
}

func (c *Cluster) bucket() string { return "gpumon_" + c.cfg.Name }

func (c *Cluster) store() jetstream.KeyValue {
	if p := c.kv.Load(); p != nil {
		return *p
	}
	return nil
}

// Run connects to NATS (retrying forever), binds the bucket, follows it,
// beats and answers commands until ctx is done.
func (c *Cluster) Run(ctx context.Context) error {
	reconnected := make(chan struct{}, 1)
	nc, err := nats.Connect(strings.Join(c.cfg.URLs, ","),
		nats.Name("gpumon-hub "+c.cfg.Hub),
		nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1), nats.ReconnectWait(500*time.Millisecond),
		nats.PingInterval(2*time.Second), nats.MaxPingsOutstanding(2),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			c.setReady(false)
			c.log.Warn("cluster NATS connection lost; serving this hub's machines only", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			c.log.Info("cluster NATS connection back", "server", nc.ConnectedUrlRedacted())
			signal(reconnected)
		}),
	)
	if err != nil {
		return fmt.Errorf("connect to NATS %s: %w", redacted(c.cfg.URLs), err)
	}
	c.nc = nc
	defer nc.Close()
	sub, err := c.serveCommands(nc)
	if err != nil {
		return err
	}
	defer func() { _ = sub.Unsubscribe() }()
	beats, err := c.heard(nc)
	if err != nil {
		return err
	}
	defer func() { _ = beats.Unsubscribe() }()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.beat(ctx, nc) }()
	go func() { defer wg.Done(); c.watchDead(ctx) }()
	defer wg.Wait()
	for ctx.Err() == nil {
		kv, err := c.bind(ctx, js)
		if err != nil {
			c.log.Warn("cluster bucket not ready; retrying", "bucket", c.bucket(), "err", err)
			sleep(ctx, time.Second)
			continue
		}
		c.kv.Store(&kv)
		c.follow(ctx, kv, reconnected)
	}
	c.closeForwarders()
	return nil
}

// bind creates the bucket or binds to it. Three replicas on a NATS cluster;
// one where the NATS servers cannot hold three (a single node).
func (c *Cluster) bind(ctx context.Context, js jetstream.JetStream) (jetstream.KeyValue, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if kv, err := js.KeyValue(ctx, c.bucket()); err == nil {
		return kv, nil
	}
	cfg := jetstream.KeyValueConfig{Bucket: c.bucket(), Description: "gpumon cluster " + c.cfg.Name + ": machines and hubs",
		History: 1, Storage: jetstream.FileStorage, Replicas: DefaultReplicas}
	kv, err := js.CreateKeyValue(ctx, cfg)
	if err != nil && !errors.Is(err, jetstream.ErrBucketExists) {
		cfg.Replicas = 1
		var err1 error
		if kv, err1 = js.CreateKeyValue(ctx, cfg); err1 == nil {
			c.log.Warn("cluster bucket has one replica: the NATS servers cannot hold three", "bucket", c.bucket(), "err", err)
			return kv, nil
		}
	}
	if errors.Is(err, jetstream.ErrBucketExists) {
		return js.KeyValue(ctx, c.bucket())
	}
	return kv, err
}

// redacted lists URLs with their passwords hidden, for errors and logs.
func redacted(urls []string) string {
	out := make([]string, len(urls))
	for i, u := range urls {
		if p, err := url.Parse(u); err == nil {
			out[i] = p.Redacted()
		} else {
			out[i] = "(unparsable URL)"
		}
	}
	return strings.Join(out, ",")
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
