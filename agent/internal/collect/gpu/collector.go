// Package gpu reads NVIDIA GPUs through NVML.
//
// The collector takes go-nvml's nvml.Interface, so the same code reads real
// cards (nvml.New()) and simulated machines (package sim). NVML is
// initialised once, on the first Collect, and shut down by Close. When that
// first initialisation fails no other NVML function is ever called: with the
// library missing, any further call would kill the process.
package gpu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/gpumon/gpumon/agent/internal/collect"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// Symbols looked up once NVML is loaded: calls that newer drivers may drop
// (deprecated) or older ones lack.
const (
	symEventReasons    = "nvmlDeviceGetCurrentClocksEventReasons"
	symThrottleReasons = "nvmlDeviceGetCurrentClocksThrottleReasons"
	symTemperature     = "nvmlDeviceGetTemperature"
	symFieldValues     = "nvmlDeviceGetFieldValues"
	symPCIeThroughput  = "nvmlDeviceGetPcieThroughput"
)

// gpmSymbols are the GPU performance monitoring functions (NVML 520 and
// newer).
var gpmSymbols = []string{"nvmlGpmQueryDeviceSupport", "nvmlGpmSampleAlloc", "nvmlGpmSampleGet", "nvmlGpmMetricsGet", "nvmlGpmSampleFree"}

// requiredSymbols are, per metric, the NVML functions reading it calls that
// some driver versions lack.
var requiredSymbols = []struct {
	m       metric
	symbols []string
}{
	{mTemperature, []string{symTemperature}},
	{mPCIeTx, []string{symPCIeThroughput}},
	{mPCIeRx, []string{symPCIeThroughput}},
	{mMemTemp, []string{symFieldValues}},
	{mEnergy, []string{symFieldValues}},
	{mPCIeReplay, []string{symFieldValues}},
	{mNVLink, []string{symFieldValues}},
	{mRemapped, []string{symFieldValues}},
	{mActivity, gpmSymbols},
}

type initState int

const (
	stateNew initState = iota
	stateReady
	stateFailed
	stateClosed
)

// reasonsCall says which NVML function reports clock throttle reasons.
type reasonsCall int

const (
	reasonsNone reasonsCall = iota
	reasonsEvent
	reasonsThrottle
)

// Collector is the "gpu" collector. It is safe for concurrent use; calls to
// Collect are serialised.
type Collector struct {
	lib       nvml.Interface
	log       *slog.Logger
	simulated bool

	mu      sync.Mutex
	state   initState
	initErr error
	driver  string
	cuda    string
	reasons reasonsCall
	// missing has a bit set for every metric whose NVML function the
	// installed library lacks.
	missing metricSet
	// gpus holds what is remembered per GPU index between collections.
	gpus []gpuState
	// watchXIDs starts xid once NVML is initialised (WithXIDEvents).
	watchXIDs bool
	xid       *xidWatcher
}

// reprobeEvery is how many collections a metric that answered
// ERROR_NOT_SUPPORTED is skipped before it is asked again (an admin may
// switch MIG mode, which changes what a card answers, without restarting
// the agent).
const reprobeEvery = 300

// gpuState is what the collector remembers about one GPU.
type gpuState struct {
	// unsupported has a bit set for every metric that answered
	// ERROR_NOT_SUPPORTED; those are skipped until the next re-probe.
	unsupported metricSet
	// collections counts this GPU's collections, for re-probing.
	collections int
	// lastSeen is the newest process-utilisation sample time (µs).
	lastSeen uint64
	// logged has a bit set for every metric whose failure was logged.
	logged metricSet
	// hung is set while a read of this GPU has overrun GPUReadTimeout and
	// not yet returned; the GPU is reported errored without calling NVML.
	hung atomic.Bool
	// gpm holds the GPU's performance monitoring samples once allocated.
	gpm *gpmSamples
}

// New returns a collector reading GPUs through lib. Nothing is called on lib
// until the first Collect. A lib that has a Simulated() bool method returning
// true marks the samples as simulated.
func New(lib nvml.Interface, log *slog.Logger, opts ...Option) *Collector {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Collector{lib: lib, log: log}
	for _, o := range opts {
		o(c)
	}
	if s, ok := lib.(interface{ Simulated() bool }); ok {
		c.simulated = s.Simulated()
	}
	return c
}

// Name implements collect.Collector.
func (c *Collector) Name() string { return "gpu" }

// Collect implements collect.Collector. It fills s.GPUs, s.GPUProcesses and
// the driver and CUDA versions. A GPU that cannot be read is listed with its
// error set and Collect then returns an error along with the other GPUs.
func (c *Collector) Collect(ctx context.Context, s *collect.Sample) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.ensureInit(); err != nil {
		return err
	}
	s.DriverVersion, s.CUDAVersion, s.Simulated = c.driver, c.cuda, c.simulated
	n, ret := c.lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return fmt.Errorf("count GPUs: %w", ret)
	}
	if len(c.gpus) != n {
		c.freeSamples()
		c.gpus = make([]gpuState, n)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("read GPUs: %w", err)
	}
	results := make([]gpuResult, n)
	var wg sync.WaitGroup
	for i := range n {
		st := &c.gpus[i]
		if st.hung.Load() {
			// A read still waits in the driver and owns st: leave it alone.
			results[i].g, _, results[i].err = hungGPU(i, "an earlier read of this GPU is still waiting for the driver")
			continue
		}
		if st.collections++; st.collections%reprobeEvery == 0 {
			st.unsupported = 0
		}
		wg.Go(func() { results[i].g, results[i].procs, results[i].err = c.readBounded(i, st) })
	}
	wg.Wait()
	s.GPUs = make([]*gpumonv1.Gpu, 0, n)
	s.GPUProcesses = []collect.GPUProcess{}
	var errs []error
	if err := ctx.Err(); err != nil {
		errs = append(errs, fmt.Errorf("read GPUs: %w", err))
	}
	for _, res := range results {
		c.xid.fill(res.g)
		s.GPUs = append(s.GPUs, res.g)
		s.GPUProcesses = append(s.GPUProcesses, res.procs...)
		if res.err != nil {
			errs = append(errs, res.err)
		}
	}
	return errors.Join(errs...)
}

// gpuResult is what reading one GPU gave.
type gpuResult struct {
	g     *gpumonv1.Gpu
	procs []collect.GPUProcess
	err   error
}

// GPUReadTimeout bounds the read of one GPU: a GPU whose NVML calls hang is
// reported errored and the others are read on time. GPUs are read at the
// same time (NVML is thread-safe), each within this bound.
const GPUReadTimeout = 500 * time.Millisecond

// readBounded reads GPU i, giving up after GPUReadTimeout. A read that
// overran keeps running in the background (NVML calls cannot be cancelled);
// until it returns the GPU is reported as hung without calling NVML again.
func (c *Collector) readBounded(i int, st *gpuState) (*gpumonv1.Gpu, []collect.GPUProcess, error) {
	ch := make(chan gpuResult, 1)
	go func() {
		r := reader{c: c, idx: i, st: st}
		g, procs, err := r.read()
		ch <- gpuResult{g, procs, err}
	}()
	timer := time.NewTimer(GPUReadTimeout)
	defer timer.Stop()
	select {
	case res := <-ch:
		return res.g, res.procs, res.err
	case <-timer.C:
		st.hung.Store(true)
		go func() { <-ch; st.hung.Store(false) }()
		return hungGPU(i, fmt.Sprintf("no answer from the driver within %s", GPUReadTimeout))
	}
}

func hungGPU(i int, msg string) (*gpumonv1.Gpu, []collect.GPUProcess, error) {
	err := fmt.Errorf("read GPU %d: %s", i, msg)
	return &gpumonv1.Gpu{Id: int32(i), Error: err.Error()}, nil, err
}

// ensureInit initialises NVML on the first call and remembers the outcome.
func (c *Collector) ensureInit() error {
	switch c.state {
	case stateReady:
		return nil
	case stateFailed:
		return c.initErr
	case stateClosed:
		return fmt.Errorf("%w: gpu collector closed", collect.ErrUnavailable)
	}
	if ret := c.lib.Init(); ret != nvml.SUCCESS {
		c.state = stateFailed
		c.initErr = fmt.Errorf("%w: initialise nvml: %w", collect.ErrUnavailable, ret)
		return c.initErr
	}
	c.state = stateReady
	if v, ret := c.lib.SystemGetDriverVersion(); ret == nvml.SUCCESS {
		c.driver = v
	}
	if v, ret := c.lib.SystemGetCudaDriverVersion(); ret == nvml.SUCCESS {
		c.cuda = FormatCUDAVersion(v)
	}
	c.probeSymbols()
	if c.watchXIDs {
		if n, ret := c.lib.DeviceGetCount(); ret == nvml.SUCCESS {
			c.xid = startXIDWatcher(c.lib, n, c.log)
		}
	}
	return nil
}

// probeSymbols checks for the functions that come and go between driver
// versions; calling a symbol the library lacks would kill the process. The
// current clock-reasons call is preferred, the deprecated one is the
// fallback for older drivers.
func (c *Collector) probeSymbols() {
	ext := c.lib.Extensions()
	for _, req := range requiredSymbols {
		for _, sym := range req.symbols {
			if ext == nil || ext.LookupSymbol(sym) != nil {
				c.missing.set(req.m)
			}
		}
	}
	if ext == nil {
		return
	}
	switch {
	case ext.LookupSymbol(symEventReasons) == nil:
		c.reasons = reasonsEvent
	case ext.LookupSymbol(symThrottleReasons) == nil:
		c.reasons = reasonsThrottle
	}
}

// Close shuts NVML down if it was initialised. Later calls to Collect report
// the source as unavailable. Close does not wait for a collection still in
// flight (a hung driver must not hang the agent's exit): it then leaves NVML
// as it is and says so.
func (c *Collector) Close() error {
	if !c.mu.TryLock() {
		return errors.New("close gpu collector: a collection is still running")
	}
	defer c.mu.Unlock()
	was := c.state
	if was != stateFailed {
		c.state = stateClosed
	}
	if was != stateReady {
		return nil
	}
	if !c.xid.close() {
		return errors.New("close gpu collector: the xid event watcher is still waiting for the driver")
	}
	c.freeSamples()
	if ret := c.lib.Shutdown(); ret != nvml.SUCCESS {
		return fmt.Errorf("shut down nvml: %w", ret)
	}
	return nil
}

// freeSamples releases the GPM samples of every GPU not held by a hung read.
func (c *Collector) freeSamples() {
	for i := range c.gpus {
		st := &c.gpus[i]
		if st.gpm != nil && !st.hung.Load() {
			st.gpm.free()
			st.gpm = nil
		}
	}
}

// FormatCUDAVersion turns NVML's CUDA driver version (12040) into "12.4".
func FormatCUDAVersion(v int) string {
	if v <= 0 {
		return ""
	}
	return fmt.Sprintf("%d.%d", v/1000, v%1000/10)
}
