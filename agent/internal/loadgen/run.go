package loadgen

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/gpumon/gpumon/agent/internal/stream"
)

// Config configures a load run.
type Config struct {
	Hub      string
	Token    string
	TLS      *tls.Config
	Agents   int
	Interval time.Duration
	Duration time.Duration
	Profile  Profile
	// Seed draws the machines and their jobs: the same seed, the same fleet.
	Seed uint64
	// Prefix names the simulated machines prefix-0001, prefix-0002, ...
	Prefix string
	// Full sends every snapshot whole, as agents that predate deltas do.
	Full bool
	// Spread starts the agents one after another, evenly over one
	// interval, so they sample at different moments as a real fleet's
	// agents do; otherwise all start, and sample, together.
	Spread bool
	Log    *slog.Logger
}

// Result sums up a run.
type Result struct {
	Agents    int
	Connected int
	Sampled   uint64
	Pending   int
	Dropped   uint64
	Elapsed   time.Duration
	// Acked counts acknowledgements timed; AckP50 and AckP99 are the time
	// from a snapshot's send to its acknowledgement.
	Acked          int
	AckP50, AckP99 time.Duration
}

func (r Result) String() string {
	rate := float64(r.Sampled-uint64(r.Pending)) / r.Elapsed.Seconds()
	return fmt.Sprintf("%d agents (%d connected at the end), %d snapshots sampled, %d unacknowledged, %d dropped, %.0f snapshots/s acknowledged over %s, ack latency p50 %s p99 %s (%d acks)",
		r.Agents, r.Connected, r.Sampled, r.Pending, r.Dropped, rate, r.Elapsed.Round(time.Millisecond),
		fmtLatency(r.AckP50), fmtLatency(r.AckP99), r.Acked)
}

func fmtLatency(d time.Duration) string {
	return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond))
}

// Run starts cfg.Agents simulated agents, reports progress to progress every
// 5 s, and stops them after cfg.Duration (or when ctx is done).
func Run(ctx context.Context, cfg Config, progress io.Writer) Result {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	clients := make([]*stream.Client, cfg.Agents)
	samplers := make([]*countingSampler, cfg.Agents)
	var (
		wg   sync.WaitGroup
		lats latencies
	)
	begin := time.Now()
	for i := range clients {
		name := fmt.Sprintf("%s-%04d", cfg.Prefix, i+1)
		samplers[i] = &countingSampler{Sampler: NewSampler(cfg.Profile, machineSeed(cfg.Seed, i))}
		clients[i] = stream.New(stream.Config{
			Hub: cfg.Hub, Token: cfg.Token, TLS: cfg.TLS, Hostname: name, MachineID: "loadgen-" + name, Secret: secretOf(cfg.Token, name),
			Version: "loadgen", Interval: cfg.Interval, Simulated: true, Log: cfg.Log, OnAck: lats.add,
			FullSnapshots: cfg.Full,
		}, samplers[i])
		wg.Add(1)
		go func() {
			defer wg.Done()
			if cfg.Spread && !sleep(ctx, cfg.Interval*time.Duration(i)/time.Duration(cfg.Agents)) {
				return
			}
			_ = clients[i].Run(ctx)
		}()
	}
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	// Progress lines carry the ack latency of their own 5 s window; the
	// result, that of the whole run.
	summarise := func(window bool) Result {
		res := Result{Agents: cfg.Agents, Elapsed: time.Since(begin)}
		for i, c := range clients {
			if c.Connected() {
				res.Connected++
			}
			p, d := c.Pending()
			res.Pending += p
			res.Dropped += d
			res.Sampled += samplers[i].n.Load()
		}
		if window {
			res.AckP50, res.AckP99, res.Acked = lats.takeWindow()
		} else {
			res.AckP50, res.AckP99, res.Acked = lats.overall()
		}
		return res
	}
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-tick.C:
			fmt.Fprintln(progress, summarise(true))
		}
	}
	res := summarise(false)
	wg.Wait()
	return res
}

// secretOf is a simulated machine's secret. It is derived from the agent
// token and the name, so that a later run with the same prefix is the same
// machines to the hub, not conflicts.
func secretOf(token, name string) string {
	sum := sha256.Sum256([]byte("gpumon-loadgen\x00" + token + "\x00" + name))
	return hex.EncodeToString(sum[:])
}

// sleep waits d, or until ctx is done (false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
