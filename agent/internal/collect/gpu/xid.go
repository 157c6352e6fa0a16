package gpu

import (
	"errors"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"google.golang.org/protobuf/types/known/timestamppb"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// Option configures a Collector.
type Option func(*Collector)

// WithXIDEvents makes the collector watch NVML's Xid critical error events
// once NVML is initialised, on a goroutine of its own: a collection never
// waits for it. Each GPU it watches reports how many Xid errors came and
// the last one (Gpu.xid_errors, last_xid, last_xid_time).
func WithXIDEvents() Option { return func(c *Collector) { c.watchXIDs = true } }

// xidWaitMillis bounds one wait for an event, so Close never waits longer
// for the watcher to stop.
const xidWaitMillis = 500

// xidStopTimeout bounds how long Close waits for the watcher; a watcher
// still in the driver after it is left alone, with NVML not shut down.
const xidStopTimeout = 5 * time.Second

// xidCount is what one GPU has had.
type xidCount struct {
	n    uint32
	last uint32
	at   time.Time
}

// xidWatcher follows the Xid critical errors of the GPUs that register for
// them.
type xidWatcher struct {
	set     nvml.EventSet
	handles []nvml.Device // by index; nil where not watched
	log     *slog.Logger
	now     func() time.Time

	mu   sync.Mutex
	gpus map[int]*xidCount

	stop chan struct{}
	done chan struct{}
}

// startXIDWatcher registers every GPU that supports Xid critical error
// events in a new event set and starts waiting for them. It returns nil
// when no GPU can be watched. Call only with NVML initialised.
func startXIDWatcher(lib nvml.Interface, n int, log *slog.Logger) *xidWatcher {
	set, ret := lib.EventSetCreate()
	if ret != nvml.SUCCESS {
		log.Debug("xid events unavailable", "err", ret.Error())
		return nil
	}
	w := &xidWatcher{set: set, handles: make([]nvml.Device, n), log: log, now: time.Now, gpus: map[int]*xidCount{},
		stop: make(chan struct{}), done: make(chan struct{})}
	for i := range n {
		dev, ret := lib.DeviceGetHandleByIndex(i)
		if ret != nvml.SUCCESS {
			continue
		}
		types, ret := dev.GetSupportedEventTypes()
		if ret != nvml.SUCCESS || types&nvml.EventTypeXidCriticalError == 0 {
			log.Debug("xid events not supported", "gpu", i)
			continue
		}
		if ret := dev.RegisterEvents(nvml.EventTypeXidCriticalError, set); ret != nvml.SUCCESS {
			log.Debug("register for xid events", "gpu", i, "err", ret.Error())
			continue
		}
		w.handles[i] = dev
		w.gpus[i] = &xidCount{}
	}
	if len(w.gpus) == 0 {
		_ = set.Free()
		return nil
	}
	go w.run()
	return w
}

// run waits for events until stopped.
func (w *xidWatcher) run() {
	defer close(w.done)
	failing := false
	for {
		select {
		case <-w.stop:
			return
		default:
		}
		ev, ret := w.set.Wait(xidWaitMillis)
		switch {
		case ret == nvml.SUCCESS:
			failing = false
			w.record(ev)
		case errors.Is(ret, nvml.ERROR_TIMEOUT):
			failing = false
		default:
			if !failing {
				w.log.Warn("wait for xid events", "err", ret.Error())
				failing = true
			}
			select { // never spin on a set that keeps failing
			case <-w.stop:
				return
			case <-time.After(time.Second):
			}
		}
	}
}

// record counts an event for the GPU whose handle it carries.
func (w *xidWatcher) record(ev nvml.EventData) {
	if ev.EventType&nvml.EventTypeXidCriticalError == 0 {
		return
	}
	for i, h := range w.handles {
		if !sameDevice(h, ev.Device) {
			continue
		}
		w.mu.Lock()
		c := w.gpus[i]
		c.n++
		c.last, c.at = uint32(ev.EventData), w.now()
		w.mu.Unlock()
		w.log.Warn("xid critical error", "gpu", i, "xid", ev.EventData)
		return
	}
}

// sameDevice reports whether two handles are the same GPU's. Handles are
// compared as values (NVML's are pointers to the driver's records); one of a
// type that cannot be compared matches nothing.
func sameDevice(a, b nvml.Device) bool {
	if a == nil || b == nil || reflect.TypeOf(a) != reflect.TypeOf(b) || !reflect.TypeOf(a).Comparable() {
		return false
	}
	return a == b
}

// fill sets g's Xid fields when its GPU is watched.
func (w *xidWatcher) fill(g *gpumonv1.Gpu) {
	if w == nil || g.GetError() != "" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.gpus[int(g.GetId())]
	if !ok {
		return
	}
	g.XidErrors = new(c.n)
	if c.n > 0 {
		g.LastXid = new(c.last)
		g.LastXidTime = timestamppb.New(c.at)
	}
}

// close stops the watcher and frees the set. It reports false when the
// watcher did not stop in time (still in the driver): NVML must then be
// left as it is.
func (w *xidWatcher) close() bool {
	if w == nil {
		return true
	}
	close(w.stop)
	select {
	case <-w.done:
	case <-time.After(xidStopTimeout):
		return false
	}
	_ = w.set.Free()
	return true
}
