// Package docker collects the running Docker containers.
//
// Every Docker call happens in background goroutines with timeouts: one
// keeps the container list (and each container's GPU devices, read once by
// inspecting it), another refreshes the stats of every running container on
// its own, slower interval. Collect only copies the latest cached values, so
// a slow or hung daemon never delays a sample.
package docker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"github.com/gpumon/gpumon/agent/internal/collect"
)

// API is the part of the Docker SDK client the collector uses;
// *client.Client implements it.
type API interface {
	ContainerList(ctx context.Context, options container.ListOptions) ([]container.Summary, error)
	ContainerInspect(ctx context.Context, containerID string) (container.InspectResponse, error)
	ContainerStats(ctx context.Context, containerID string, stream bool) (container.StatsResponseReader, error)
	Close() error
}

// Defaults for the options.
const (
	DefaultListInterval  = 2 * time.Second
	DefaultStatsInterval = 10 * time.Second
	// retryInterval is how often an unreachable daemon is tried again.
	retryInterval = 30 * time.Second
	// callTimeout bounds each Docker call. A stats call (which the daemon
	// answers after sampling for about a second) gets twice as long.
	callTimeout = 5 * time.Second
	// firstWait bounds how long the first Collect waits for the first list.
	firstWait = time.Second
	// statsParallel bounds concurrent stats calls.
	statsParallel = 4
)

// errNoAnswer is returned until the daemon answered the first list call.
var errNoAnswer = errors.New("docker daemon has not answered yet")

// Option configures a Collector.
type Option func(*Collector)

// WithAPI makes the collector use api instead of a client built from the
// environment (DOCKER_HOST, ...). The collector closes it in Close.
func WithAPI(api API) Option { return func(c *Collector) { c.api = api } }

// WithClientOpts adds options to the SDK client built from the environment.
func WithClientOpts(opts ...client.Opt) Option {
	return func(c *Collector) { c.clientOpts = append(c.clientOpts, opts...) }
}

// WithListInterval sets how often the container list is refreshed.
func WithListInterval(d time.Duration) Option { return func(c *Collector) { c.listEvery = d } }

// WithStatsInterval sets how often every container's stats are refreshed.
func WithStatsInterval(d time.Duration) Option { return func(c *Collector) { c.statsEvery = d } }

// Collector is the "docker" collector. Close it to stop its goroutines.
type Collector struct {
	log        *slog.Logger
	api        API
	clientOpts []client.Opt
	listEvery  time.Duration
	statsEvery time.Duration

	start  sync.Once
	stop   context.CancelFunc
	wg     sync.WaitGroup
	listed chan struct{} // closed after the first list attempt
	waited bool          // the first Collect waited for it
	cache  cache
}

// New returns a docker collector. Nothing is contacted before the first
// Collect.
func New(log *slog.Logger, opts ...Option) *Collector {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Collector{
		log:        log,
		clientOpts: []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()},
		listEvery:  DefaultListInterval,
		statsEvery: DefaultStatsInterval,
		listed:     make(chan struct{}),
		cache:      cache{byID: map[string]*entry{}},
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Name implements collect.Collector.
func (c *Collector) Name() string { return "docker" }

var _ collect.Collector = (*Collector)(nil)

// Collect fills s.Containers with the latest cached containers. The first
// call starts the background refresh and waits briefly (within ctx) for the
// first list; later calls never wait. When the daemon cannot be reached
// the error wraps collect.ErrUnavailable.
func (c *Collector) Collect(ctx context.Context, s *collect.Sample) error {
	c.start.Do(c.run)
	select {
	case <-c.listed:
	default:
		if c.waited {
			return errNoAnswer
		}
		c.waited = true
		t := time.NewTimer(firstWait)
		defer t.Stop()
		select {
		case <-c.listed:
		case <-t.C:
			return errNoAnswer
		case <-ctx.Done():
			return errNoAnswer
		}
	}
	containers, err := c.cache.report()
	s.Containers = containers
	return err
}

// Close stops the background refresh and waits for it, then closes the
// client.
func (c *Collector) Close() error {
	c.start.Do(func() {
		c.stop = func() {}
		close(c.listed)
	})
	c.stop()
	c.wg.Wait()
	if c.api != nil {
		return c.api.Close()
	}
	return nil
}

// run builds the client if needed and starts the background goroutines.
func (c *Collector) run() {
	ctx, cancel := context.WithCancel(context.Background())
	c.stop = cancel
	if c.api == nil {
		api, err := client.NewClientWithOpts(c.clientOpts...)
		if err != nil {
			c.cache.setErr(fmt.Errorf("create docker client: %w: %w", err, collect.ErrUnavailable))
			close(c.listed)
			return
		}
		c.api = api
	}
	c.wg.Add(2)
	go func() {
		defer c.wg.Done()
		c.listLoop(ctx)
	}()
	go func() {
		defer c.wg.Done()
		c.statsLoop(ctx)
	}()
}
