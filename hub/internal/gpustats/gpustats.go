// Package gpustats serves the documented GET /api/gpu-stats from the fleet
// in this process.
//
// Each machine's part of the body ("host": report) is rendered once per
// published state and kept, plain and, once a client asks for gzip,
// deflated ready to stitch. A request stitches the kept parts, so a read of
// a fleet that changes between reads costs only the machines that changed;
// nothing holds the whole body in one message.
package gpustats

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc/metadata"

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

	mu    sync.Mutex
	parts map[*fleet.Machine]*part
	last  *view
	// instance tells this process's versions from a restarted hub's in ETags.
	instance string
}

// part is one machine's "key":{report} for one published state.
type part struct {
	state  *fleet.State
	plain  []byte
	gzOnce sync.Once
	gz     deflated
}

func (p *part) deflated() deflated {
	p.gzOnce.Do(func() { p.gz = deflate(p.plain) })
	return p.gz
}

// view is the body for one fleet version: its parts in key order.
type view struct {
	version uint64
	parts   []*part
	size    int // plain length
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
	var body net.Buffers
	if gateway.AcceptsGzip(r) {
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
	md := metadata.Pairs(apimeta.IfVersion, apimeta.AnyVersion)
	for _, v := range r.Header.Values("Authorization") {
		md.Append("authorization", v)
	}
	_, err := h.Service.GetGpuStats(metadata.NewIncomingContext(r.Context(), md), &gpumonv1.GetGpuStatsRequest{})
	return err
}

// current returns the view of the fleet's current version, rendering the
// parts of machines whose state changed since they were last rendered.
// Readers take turns, so each part is rendered once.
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
			p = render(m.Key, st, p)
			h.parts[m] = p
		}
		seen[m] = true
		v.parts = append(v.parts, p)
		v.size += len(p.plain)
	}
	for m := range h.parts {
		if !seen[m] {
			delete(h.parts, m) // forgotten
		}
	}
	h.last = v
	return v
}

// render writes a machine's part; prev (its last part, or nil) sizes the
// buffer.
func render(key string, st *fleet.State, prev *part) *part {
	hint := 4096
	if prev != nil {
		hint = len(prev.plain) + len(prev.plain)/8
	}
	b := wirejson.AppendString(make([]byte, 0, hint), key)
	b = append(b, ':')
	return &part{state: st, plain: wirejson.AppendDocumented(b, fleet.RenderedOf(st))}
}

func (v *view) plain() net.Buffers {
	out := make(net.Buffers, 0, 2*len(v.parts)+2)
	out = append(out, open)
	for i, p := range v.parts {
		if i > 0 {
			out = append(out, comma)
		}
		out = append(out, p.plain)
	}
	return append(out, closing)
}

func (v *view) gzip() net.Buffers {
	out := make(net.Buffers, 0, 2*len(v.parts)+5)
	out = append(out, gzipHeader, openGz.data)
	crc, size := openGz.crc, openGz.size
	add := func(d deflated) {
		out = append(out, d.data)
		crc = crc32Combine(crc, d.crc, d.size)
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
