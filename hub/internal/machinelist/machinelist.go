// Package machinelist answers GET /api/v1/machines (every machine's
// summary and the fleet's totals) from summaries kept per published state.
//
// A machine's summary depends on its published state only, so its JSON is
// written once per state and kept; a read stitches the kept pieces and
// sums the totals from the kept summaries, and writes again only the
// machines that changed since the last read. The answer is byte for byte
// the route's own (the tests compare them); requests with a query string,
// or other methods, go to the route.
package machinelist

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"sync"

	"github.com/gpumon/gpumon/common/apimeta"
	"github.com/gpumon/gpumon/common/wirejson"
	"github.com/gpumon/gpumon/gateway"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// Pattern is the route the shortcut stands in front of.
const Pattern = "GET /api/v1/machines"

// Authorizer checks a read of the fleet: the hub's FleetService, asked with
// apimeta.AnyVersion, answers after its checks with an empty message.
type Authorizer interface {
	ListMachines(context.Context, *gpumonv1.ListMachinesRequest) (*gpumonv1.ListMachinesResponse, error)
}

// Cache keeps the machines' summaries; Shortcut puts it in front of the
// route.
type Cache struct {
	Fleet   *fleet.Fleet
	Service Authorizer

	mu      sync.Mutex
	entries map[*fleet.Machine]*entry
	last    *body
}

// entry is one machine's summary for one published state (nil: none yet).
type entry struct {
	state   *fleet.State
	summary *gpumonv1.MachineSummary
	json    []byte
}

var emptyList = []byte(`{"machines":[]`)

// body is the answer for one fleet version.
type body struct {
	version uint64
	data    []byte
}

// Shortcut wraps the route's handler: GET without a query is answered
// from the cache, everything else by the route.
func (c *Cache) Shortcut(route http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.RawQuery != "" {
			route.ServeHTTP(w, r)
			return
		}
		ctx := apimeta.AuthorizeOnly(r)
		if _, err := c.Service.ListMachines(ctx, &gpumonv1.ListMachinesRequest{}); err != nil {
			gateway.WriteGRPCError(w, err)
			return
		}
		data := c.current()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(data)
	})
}

// current returns the answer for the fleet's current version, writing the
// summaries of machines whose state changed since the last read.
func (c *Cache) current() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	// Read before listing: an answer is never older than its version.
	version := c.Fleet.Version()
	if c.last != nil && c.last.version == version {
		return c.last.data
	}
	if c.entries == nil {
		c.entries = map[*fleet.Machine]*entry{}
	}
	list := c.Fleet.List()
	seen := make(map[*fleet.Machine]bool, len(list))
	summaries := make([]*gpumonv1.MachineSummary, 0, len(list))
	size := 0
	for _, m := range list {
		st := m.State()
		e := c.entries[m]
		if e == nil || e.state != st {
			s := m.SummaryOf(st)
			e = &entry{state: st, summary: s, json: wirejson.Marshal(s)}
			c.entries[m] = e
		}
		seen[m] = true
		summaries = append(summaries, e.summary)
		size += len(e.json) + 1
	}
	for m := range c.entries {
		if !seen[m] {
			delete(c.entries, m) // forgotten
		}
	}
	// The envelope is the route's own rendering of an answer without
	// machines, {"machines":[],"totals":{…}}, the summaries written
	// between the brackets.
	totals := fleet.Totals(summaries)
	envelope := wirejson.Marshal(&gpumonv1.ListMachinesResponse{Totals: totals})
	if !bytes.HasPrefix(envelope, emptyList) {
		data := wirejson.Marshal(&gpumonv1.ListMachinesResponse{Machines: summaries, Totals: totals})
		c.last = &body{version: version, data: data}
		return data
	}
	cut := len(emptyList) - 1
	data := make([]byte, 0, len(envelope)+size)
	data = append(data, envelope[:cut]...)
	for i, m := range list {
		if i > 0 {
			data = append(data, ',')
		}
		data = append(data, c.entries[m].json...)
	}
	data = append(data, envelope[cut:]...)
	c.last = &body{version: version, data: data}
	return data
}
