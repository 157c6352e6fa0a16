package gateway

import (
	"encoding/json"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gpumon/gpumon/gen/openapi"
)

// routeTable knows which methods each documented path takes, read from the
// generated OpenAPI document, so that a 405 can say what is allowed.
type routeTable []route

type route struct {
	segments []string // "{…}" matches any one segment
	methods  []string
}

func loadRoutes() routeTable {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	_ = json.Unmarshal(openapi.JSON, &doc) // generated and embedded: it parses
	var t routeTable
	for p, ops := range doc.Paths {
		r := route{segments: strings.Split(strings.Trim(p, "/"), "/")}
		for m := range ops {
			r.methods = append(r.methods, strings.ToUpper(m))
		}
		t = append(t, r)
	}
	return t
}

// allowed lists the methods the routes matching path take.
func (t routeTable) allowed(path string) []string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var out []string
	for _, r := range t {
		if r.match(segs) {
			out = append(out, r.methods...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (r route) match(segs []string) bool {
	if len(segs) != len(r.segments) {
		return false
	}
	for i, s := range r.segments {
		if !strings.HasPrefix(s, "{") && s != segs[i] {
			return false
		}
	}
	return true
}

// MethodNotAllowed answers 405 with the documented error body and an Allow
// header listing the methods the route takes.
func MethodNotAllowed(w http.ResponseWriter, r *http.Request, allow ...string) {
	w.Header().Set("Allow", strings.Join(allow, ", "))
	WriteError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed on "+r.URL.Path)
}

// OnlyGet lets GET and HEAD through and answers every other method with 405.
func OnlyGet(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			MethodNotAllowed(w, r, http.MethodGet, http.MethodHead)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// jsonWrites refuses a write whose body is not JSON with 415: a web page can
// POST text/plain or a form to any site without asking first (no CORS
// preflight), but not application/json. Methods the route does not take are
// left to the router (405).
func (t routeTable) jsonWrites(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && slices.Contains(t.allowed(r.URL.Path), http.MethodPost) && !isJSON(r.Header.Get("Content-Type")) {
			WriteError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json (got "+strconv.Quote(r.Header.Get("Content-Type"))+")")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isJSON accepts application/json with, at most, a charset parameter.
func isJSON(contentType string) bool {
	typ, params, err := mime.ParseMediaType(contentType)
	if err != nil || typ != "application/json" {
		return false
	}
	for k := range params {
		if k != "charset" {
			return false
		}
	}
	return true
}
