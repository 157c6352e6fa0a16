// Package gpustats serves the documented GET /api/gpu-stats from the fleet
// in this process.
//
// Each machine's part of the body ("host": report) is rendered once per
// published state and kept, plain and, once a client asks for gzip,
// deflated ready to stitch. A request stitches the kept parts, so a read of
// a fleet that changes between reads costs only the machines that changed;
// nothing holds the whole body in one message. While the route is read,
// Run renders (and deflates) the parts of machines that changed in the
// background, so a read rarely writes any; a read that finds many parts to
// write writes them on every core.
package gpustats

import (
	"cmp"
	"context"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gpumon/gpumon/common/apimeta"
	"github.com/gpumon/gpumon/common/wirejson"
	"github.com/gpumon/gpumon/gateway"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// Authorizer checks a read of the fleet: the hub's FleetService, asked with
// apimeta.AnyVersion, answers after its checks with an empty message.
type Authorizer interface {
	GetGpuStats(context.Context, *gpumonv1.GetGpuStatsRequest) (*gpumonv1.GetGpuStatsResponse, error)
}

// Handler serves GET /api/gpu-stats.
type Handler struct {
	Fleet   *fleet.Fleet
	Service Authorizer
	// Keep is how long after a read the parts are kept, and kept current in
	// the background by Run (deflated too when that read asked for gzip);
	// zero means DefaultKeep.
	Keep time.Duration

	mu    sync.Mutex
	parts map[*fleet.Machine]*part
	last  *view
	// instance tells this process's versions from a restarted hub's in ETags.
	instance string
	// readAt and gzipAt: the last read, and the last that asked for gzip
	// (Unix nanoseconds).
	readAt, gzipAt atomic.Int64
}

// DefaultKeep: a page or a collector polling the route every few seconds
// finds every part ready; a hub nobody reads lets them go.
const DefaultKeep = 2 * time.Minute

// warmEvery is how often Run brings the parts up to the fleet.
const warmEvery = 100 * time.Millisecond

// part is one machine's "key":{report} for one published state; its bytes
// are written once, by whichever reader (or Run) gets to it first.
type part struct {
	state *fleet.State
	key   string
	hint  int // buffer size: the last part's length and a margin

	plainOnce sync.Once
	plainDone atomic.Bool
	plain     []byte
	gzOnce    sync.Once
	gzDone    atomic.Bool
	gz        deflated
}

func (p *part) rendered() []byte {
	p.plainOnce.Do(func() {
		b := wirejson.AppendString(make([]byte, 0, p.hint), p.key)
		b = append(b, ':')
		p.plain = wirejson.AppendDocumented(b, fleet.RenderedOf(p.state))
		p.plainDone.Store(true)
	})
	return p.plain
}

func (p *part) deflated() deflated {
	p.gzOnce.Do(func() {
		p.gz = deflate(p.rendered())
		p.gzDone.Store(true)
	})
	return p.gz
}

func (p *part) ready(gz bool) bool {
	if gz {
		return p.gzDone.Load()
	}
	return p.plainDone.Load()
}

// view is the body for one fleet version: its parts in key order.
type view struct {
	version uint64
	parts   []*part
}

var (
	open      = []byte(`{"machines":{`)
	comma     = []byte(`,`)
	closing   = []byte(`}}`)
	openGz    = deflate(open)
	commaGz   = deflate(comma)
	closingGz = deflate(closing)
)

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h.authorize(r); err != nil {
		gateway.WriteGRPCError(w, err)
		return
	}
	gz := gateway.AcceptsGzip(r)
	now := time.Now().UnixNano()
	h.readAt.Store(now)
	if gz {
		h.gzipAt.Store(now)
	}
	v := h.current()
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Add("Vary", "Accept-Encoding")
	etag := strconv.Quote("v" + h.instance + "." + strconv.FormatUint(v.version, 10))
	hdr.Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	prepare(v.parts, gz, runtime.GOMAXPROCS(0))
	var body net.Buffers
	if gz {
		hdr.Set("Content-Encoding", "gzip")
		body = v.gzip()
	} else {
		body = v.plain()
	}
	size := 0
	for _, b := range body {
		size += len(b)
	}
	hdr.Set("Content-Length", strconv.Itoa(size))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = body.WriteTo(w)
	}
}

// authorize passes the request through the service's checks.
func (h *Handler) authorize(r *http.Request) error {
	_, err := h.Service.GetGpuStats(apimeta.AuthorizeOnly(r), &gpumonv1.GetGpuStatsRequest{})
	return err
}

// current returns the view of the fleet's current version, with a new
// (not yet written) part for each machine whose state changed since its
// last part.
func (h *Handler) current() *view {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.instance == "" {
		h.instance = strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	// Read before listing: a view is never older than its version.
	version := h.Fleet.Version()
	if h.last != nil && h.last.version == version {
		return h.last
	}
	if h.parts == nil {
		h.parts = map[*fleet.Machine]*part{}
	}
	list := h.Fleet.List()
	v := &view{version: version, parts: make([]*part, 0, len(list))}
	seen := make(map[*fleet.Machine]bool, len(list))
	for _, m := range list {
		st := m.State()
		if st == nil || st.Report == nil {
			continue
		}
		p := h.parts[m]
		if p == nil || p.state != st {
			hint := 4096
			if p != nil && p.plainDone.Load() {
				hint = len(p.plain) + len(p.plain)/8
			}
			p = &part{state: st, key: m.Key, hint: hint}
			h.parts[m] = p
		}
		seen[m] = true
		v.parts = append(v.parts, p)
	}
	for m := range h.parts {
		if !seen[m] {
			delete(h.parts, m) // forgotten
		}
	}
	h.last = v
	return v
}

// prepare writes the parts not written yet (and deflates them for gzip),
// on up to workers goroutines. Readers preparing the same view share the
// work: each part is written once, and a reader waits for a part another
// is writing.
func prepare(parts []*part, gz bool, workers int) {
	var todo []*part
	for _, p := range parts {
		if !p.ready(gz) {
			todo = append(todo, p)
		}
	}
	do := func(p *part) {
		if gz {
			p.deflated()
		} else {
			p.rendered()
		}
	}
	workers = min(workers, len(todo)/4)
	if workers <= 1 {
		for _, p := range todo {
			do(p)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(todo)); i = next.Add(1) - 1 {
				do(todo[i])
			}
		})
	}
	wg.Wait()
}

// Run keeps the parts current while the route is read: every warmEvery it
// writes the parts of machines that changed (and deflates them when a read
// in the last Keep asked for gzip), on one goroutine, so a read finds them
// ready instead of writing every machine that changed since the last read.
// When nobody read the route for Keep, the parts are let go. Run returns
// when ctx is done.
func (h *Handler) Run(ctx context.Context) {
	t := time.NewTicker(warmEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			h.warm(now)
		}
	}
}

// warm is one step of Run at now.
func (h *Handler) warm(now time.Time) {
	keep := cmp.Or(h.Keep, DefaultKeep).Nanoseconds()
	if now.UnixNano()-h.readAt.Load() > keep {
		h.mu.Lock()
		h.parts, h.last = nil, nil
		h.mu.Unlock()
		return
	}
	gz := now.UnixNano()-h.gzipAt.Load() <= keep
	prepare(h.current().parts, gz, 1)
}

func (v *view) plain() net.Buffers {
	out := make(net.Buffers, 0, 2*len(v.parts)+2)
	out = append(out, open)
	for i, p := range v.parts {
		if i > 0 {
			out = append(out, comma)
		}
		out = append(out, p.rendered())
	}
	return append(out, closing)
}

func (v *view) gzip() net.Buffers {
	out := make(net.Buffers, 0, 2*len(v.parts)+5)
	out = append(out, gzipHeader, openGz.data)
	crc, size := openGz.crc, openGz.size
	add := func(d deflated) {
		out = append(out, d.data)
		crc = crc32Combine(crc, d.crc, d.shift)
		size += d.size
	}
	for i, p := range v.parts {
		if i > 0 {
			add(commaGz)
		}
		add(p.deflated())
	}
	add(closingGz)
	return append(out, finalBlock, gzipTrailer(crc, size))
}
