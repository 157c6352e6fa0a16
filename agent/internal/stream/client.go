// Package stream keeps the agent's one bidirectional stream to the hub:
// hello with the static inventory, a snapshot every interval with increasing
// sequence numbers, a bounded buffer of un-acknowledged snapshots replayed in
// order after a reconnect, reconnects with capped exponential backoff and
// jitter, and the hub's commands.
package stream

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"

	"github.com/gpumon/gpumon/common/flagenv"
	"github.com/gpumon/gpumon/common/procdelta"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// Sampler takes one full sample of the machine.
type Sampler interface {
	Sample(ctx context.Context) *gpumonv1.Report
}

// Config configures a Client.
type Config struct {
	// Hub is host:port of the hub's gRPC port, or several, separated by
	// commas (hubs of one cluster): the stream goes to one of them, chosen
	// at random, and moves to the next on every failed attempt. A name with
	// several addresses is tried address by address.
	Hub       string
	Token     string
	TLS       *tls.Config // nil: plaintext
	Hostname  string
	MachineID string
	Version   string
	Interval  time.Duration
	// Buffer is how much un-acknowledged history to keep (default 10 min).
	Buffer time.Duration
	// Secret is the machine secret a hub issued earlier ("" before the
	// first). The agent presents it in every Hello.
	Secret string
	// SaveSecret keeps a secret the hub issues (in the state directory); nil
	// keeps it in memory only.
	SaveSecret func(secret string) error
	Simulated  bool
	Kill       KillPolicy
	// Backoff bounds; defaults 1 s and 30 s.
	MinBackoff, MaxBackoff time.Duration
	// Keepalive is the ping interval on an idle connection (default 20 s);
	// a hub that does not answer within 10 s more is given up on.
	Keepalive time.Duration
	// FlushTimeout bounds the attempt to send buffered snapshots when the
	// agent stops (default 3 s).
	FlushTimeout time.Duration
	// Dialer overrides the network dialer (tests).
	Dialer func(ctx context.Context, addr string) (net.Conn, error)
	// OnAck, when set, is called for every snapshot the hub acknowledges
	// with the time from its send to the acknowledgement (load tests).
	OnAck func(time.Duration)
	// FullSnapshots sends every snapshot whole even to a hub that takes
	// deltas (load tests of the full form).
	FullSnapshots bool
	// Observe, when set, is given every full sample before it is queued,
	// with the key the hub lists the machine under ("" before the first
	// welcome). It must not keep or change r.
	Observe func(r *gpumonv1.Report, machineKey string)
	Log     *slog.Logger
}

// Client is the agent's side of the stream.
type Client struct {
	cfg      Config
	sampler  Sampler
	buf      *buffer
	epoch    uint64
	seq      atomic.Uint64
	interval atomic.Int64
	// wake makes the sampler sample now; retime makes it pick up a new interval.
	wake, retime chan struct{}
	// invChanged ends the current stream so a new hello carries new facts.
	invChanged chan struct{}
	mu         sync.Mutex
	inventory  *gpumonv1.Inventory
	// pids the latest sample reports, true for those using a GPU.
	pids      map[int32]bool
	secret    string // guarded by mu
	conflict  atomic.Bool
	connected atomic.Bool
	key       atomic.Pointer[string]
	log       *slog.Logger
}

// DefaultBuffer is how much history the agent keeps while the hub is away.
const DefaultBuffer = 10 * time.Minute

// DefaultKeepalive is the ping interval; the hub accepts pings every 5 s at most.
const DefaultKeepalive = 20 * time.Second

// New returns a client; Run starts it.
func New(cfg Config, s Sampler) *Client {
	if cfg.Interval <= 0 {
		cfg.Interval = 2 * time.Second
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = DefaultBuffer
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 30 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Keepalive <= 0 {
		cfg.Keepalive = DefaultKeepalive
	}
	if cfg.FlushTimeout <= 0 {
		cfg.FlushTimeout = 3 * time.Second
	}
	c := &Client{
		cfg: cfg, sampler: s,
		buf:   newBuffer(int(cfg.Buffer / cfg.Interval)),
		epoch: uint64(time.Now().UnixNano()),
		wake:  make(chan struct{}, 1), retime: make(chan struct{}, 1), invChanged: make(chan struct{}, 1),
		log: cfg.Log,
	}
	c.buf.onAck = cfg.OnAck
	c.interval.Store(int64(cfg.Interval))
	c.secret = cfg.Secret
	return c
}

// Connected reports whether a stream is up (hello answered).
func (c *Client) Connected() bool { return c.connected.Load() }

// Pending and dropped snapshots in the buffer.
func (c *Client) Pending() (pending int, dropped uint64) { return c.buf.stats() }

// Run samples and streams until ctx is done. Then it stops sampling and,
// if connected, gives the stream up to FlushTimeout to deliver what is
// buffered before it returns.
func (c *Client) Run(ctx context.Context) error {
	hubs := Hubs(c.cfg.Hub)
	clients := make([]hubClient, 0, len(hubs))
	for _, addr := range hubs {
		conn, err := c.dial(addr)
		if err != nil {
			return err
		}
		defer conn.Close()
		clients = append(clients, hubClient{addr: addr, AgentServiceClient: gpumonv1.NewAgentServiceClient(conn)})
	}
	c.sampleOnce(ctx)
	streamCtx, stopStream := context.WithCancel(context.Background())
	defer stopStream()
	sampled := make(chan struct{})
	go func() { defer close(sampled); c.sampleLoop(ctx) }()
	streamed := make(chan struct{})
	go func() { defer close(streamed); c.connectLoop(streamCtx, clients) }()
	select {
	case <-ctx.Done():
	case <-streamed:
	}
	<-sampled
	c.flush()
	stopStream()
	<-streamed
	return nil
}

// flush waits, bounded, for the buffer to be acknowledged.
func (c *Client) flush() {
	deadline := time.Now().Add(c.cfg.FlushTimeout)
	for time.Now().Before(deadline) && c.connected.Load() {
		if n, _ := c.buf.stats(); n == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n, _ := c.buf.stats(); n > 0 {
		c.log.Warn("stopping with snapshots the hub has not acknowledged", "count", n)
	}
}

// Hubs splits a --hub value into its addresses.
func Hubs(list string) []string { return flagenv.List(list) }

// ParseHubs checks a --hub value: host:port, or several separated by
// commas.
func ParseHubs(list string) ([]string, error) {
	hubs := Hubs(list)
	if len(hubs) == 0 {
		return nil, fmt.Errorf("--hub %q: want host:port, e.g. hub.lab:7865, or several separated by commas", list)
	}
	var errs []error
	for _, h := range hubs {
		if _, port, err := net.SplitHostPort(h); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("--hub %q: want host:port, e.g. hub.lab:7865, or several separated by commas", h))
		}
	}
	return hubs, errors.Join(errs...)
}

// hubClient is the stream's client for one hub address.
type hubClient struct {
	addr string
	gpumonv1.AgentServiceClient
}

func (c *Client) dial(addr string) (*grpc.ClientConn, error) {
	creds := insecure.NewCredentials()
	if c.cfg.TLS != nil {
		creds = credentials.NewTLS(c.cfg.TLS)
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: c.cfg.Keepalive, Timeout: 10 * time.Second, PermitWithoutStream: true}),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(8 << 20)),
		// Static windows (what the hub sends is small): grpc-go's dynamic
		// ones would ping the hub after every acknowledgement to estimate
		// the bandwidth.
		grpc.WithInitialWindowSize(64 << 10),
		grpc.WithInitialConnWindowSize(64 << 10),
		grpc.WithUserAgent("gpumon-agent/" + c.cfg.Version),
	}
	if c.cfg.Dialer != nil {
		opts = append(opts, grpc.WithContextDialer(c.cfg.Dialer))
	}
	return grpc.NewClient(addr, opts...)
}

func (c *Client) sampleLoop(ctx context.Context) {
	t := time.NewTicker(time.Duration(c.interval.Load()))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.retime:
			t.Reset(time.Duration(c.interval.Load()))
			continue
		case <-t.C:
		case <-c.wake:
		}
		c.sampleOnce(ctx)
	}
}

// sampleOnce takes a sample and queues it as the next snapshot.
func (c *Client) sampleOnce(ctx context.Context) {
	r := c.sampler.Sample(ctx)
	r.Hostname, r.MachineId, r.AgentVersion, r.Simulated = c.cfg.Hostname, c.cfg.MachineID, c.cfg.Version, c.cfg.Simulated || r.Simulated
	r.IntervalSeconds = time.Duration(c.interval.Load()).Seconds()
	pids := reportedPIDs(r)
	if c.cfg.Observe != nil {
		c.cfg.Observe(r, c.MachineKey())
	}
	inv := inventoryOf(r)
	c.mu.Lock()
	c.pids = pids
	if c.inventory != nil && !sameInventory(c.inventory, inv) {
		signal(c.invChanged)
	}
	c.inventory = inv
	c.mu.Unlock()
	stripStatic(r, inv)
	seq := c.seq.Add(1)
	if err := c.buf.push(&gpumonv1.Snapshot{Seq: seq, Report: r}); err != nil {
		c.log.Error("a buffered snapshot could not be encoded", "err", err)
	}
}

// MachineKey is the key the hub lists this machine under, as its latest
// welcome said; "" before the first.
func (c *Client) MachineKey() string {
	if k := c.key.Load(); k != nil {
		return *k
	}
	return ""
}

func (c *Client) setInterval(d time.Duration) {
	if time.Duration(c.interval.Swap(int64(d))) != d {
		signal(c.retime)
	}
}

// reportedPIDs maps every pid the report lists to whether it uses a GPU.
func reportedPIDs(r *gpumonv1.Report) map[int32]bool {
	pids := make(map[int32]bool, len(r.GetSystemInfo().GetProcesses()))
	for _, p := range r.GetSystemInfo().GetProcesses() {
		pids[p.GetPid()] = p.GetIsGpuProcess()
	}
	for _, g := range r.GetGpuData() {
		for _, p := range g.GetProcesses() {
			pids[p.GetPid()] = true
		}
	}
	return pids
}

// reported says whether the latest sample lists pid, and whether as a GPU
// process.
func (c *Client) reported(pid int32) (listed, gpu bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	gpu, listed = c.pids[pid]
	return listed, gpu
}

func (c *Client) currentInventory() *gpumonv1.Inventory {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inventory
}

// SecretCapability tells the hub that this agent keeps the machine secret
// it is issued (the hub's fleet.SecretCapability).
const SecretCapability = "machine_secret"

func (c *Client) capabilities() []string {
	caps := []string{"set_interval", "sample_now", SecretCapability}
	if c.cfg.Kill.Allow {
		caps = append(caps, "kill")
	}
	if !c.cfg.FullSnapshots {
		caps = append(caps, procdelta.Capability)
	}
	return slices.Clip(caps)
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
