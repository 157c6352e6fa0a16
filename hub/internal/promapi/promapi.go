// Package promapi serves the Prometheus HTTP query API (/api/v1/query,
// /api/v1/query_range, /api/v1/labels, /api/v1/label/<name>/values,
// /api/v1/series, /api/v1/metadata, /api/v1/query_exemplars,
// /api/v1/format_query and /api/v1/status/...) over the hub's history, so
// Grafana can use the hub as a Prometheus data source with no Prometheus
// server. Answers and errors have Prometheus's shapes. With a remote
// history URL it forwards those routes there instead. /api/v1/rules and
// /api/v1/alerts always answer from the hub's own rules.
package promapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"

	"github.com/gpumon/gpumon/common/metricset"
)

// Routes returns the paths this package serves, for a mux to send here.
func Routes() []string {
	return []string{
		"/api/v1/query", "/api/v1/query_range", "/api/v1/labels", "/api/v1/label/", "/api/v1/series",
		"/api/v1/metadata", "/api/v1/query_exemplars", "/api/v1/format_query", "/api/v1/status/buildinfo",
		"/api/v1/status/runtimeinfo", "/api/v1/status/config", "/api/v1/status/flags", "/api/v1/rules", "/api/v1/alerts",
	}
}

// API serves the query API.
type API struct {
	Engine    *promql.Engine
	Queryable storage.Queryable
	// Parser reads match[] selectors (the engine's, with its limits).
	Parser parser.Parser
	// Timeout bounds a query; a request's own timeout parameter may only
	// shorten it (default 2 minutes).
	Timeout time.Duration
	// Remote, when set, receives every request instead.
	Remote *url.URL
	// Authorize refuses a request (e.g. a missing API token); nil allows all.
	Authorize func(*http.Request) (code int, msg string)
	Version   string
	Now       func() time.Time
	// Metadata lists the HELP and TYPE of every metric the hub declares.
	Metadata func() []metricset.Family
	// Started and Retention are reported by /api/v1/status/runtimeinfo,
	// Flags (Prometheus's flag names) by /api/v1/status/flags.
	Started   time.Time
	Retention time.Duration
	Flags     map[string]string
	// Rules answers /api/v1/rules and /api/v1/alerts; nil: none.
	Rules RuleSource
}

// Handler returns the HTTP handler for Routes.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/query", a.query)
	mux.HandleFunc("/api/v1/query_range", a.queryRange)
	mux.HandleFunc("/api/v1/labels", a.labelNames)
	mux.HandleFunc("/api/v1/label/{name}/values", a.labelValues)
	mux.HandleFunc("/api/v1/series", a.series)
	mux.HandleFunc("/api/v1/metadata", a.metadata)
	mux.HandleFunc("/api/v1/query_exemplars", a.queryExemplars)
	mux.HandleFunc("/api/v1/format_query", a.formatQuery)
	mux.HandleFunc("/api/v1/status/buildinfo", a.buildInfo)
	mux.HandleFunc("/api/v1/status/runtimeinfo", a.runtimeInfo)
	mux.HandleFunc("/api/v1/status/config", a.config)
	mux.HandleFunc("/api/v1/status/flags", a.flags)
	mux.HandleFunc("/api/v1/rules", a.rules)
	mux.HandleFunc("/api/v1/alerts", a.alerts)
	var h http.Handler = mux
	if a.Remote != nil {
		remote := a.proxy()
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if slices.Contains(ruleRoutes, r.URL.Path) {
				mux.ServeHTTP(w, r)
				return
			}
			remote.ServeHTTP(w, r)
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			w.Header().Set("Allow", "GET, POST")
			fail(w, http.StatusMethodNotAllowed, "bad_data", "method "+r.Method+" not allowed")
			return
		}
		if a.Authorize != nil {
			if code, msg := a.Authorize(r); code != 0 {
				fail(w, code, "unauthorized", msg)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

func (a *API) proxy() http.Handler {
	rp := httputil.NewSingleHostReverseProxy(a.Remote)
	base := a.Remote
	rp.Director = func(r *http.Request) {
		r.URL.Scheme, r.URL.Host = base.Scheme, base.Host
		r.URL.Path = strings.TrimSuffix(base.Path, "/") + r.URL.Path
		r.Host = base.Host
		r.Header.Del("Authorization") // the hub's tokens are not the remote's
	}
	rp.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, err error) {
		fail(w, http.StatusBadGateway, "unavailable", "remote history: "+err.Error())
	}
	return rp
}

func (a *API) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *API) query(w http.ResponseWriter, r *http.Request) {
	ts, err := parseTimeParam(r, "time", a.now())
	if err != nil {
		fail(w, http.StatusBadRequest, "bad_data", err.Error())
		return
	}
	ctx, cancel := a.withTimeout(r)
	defer cancel()
	q, err := a.Engine.NewInstantQuery(ctx, a.Queryable, nil, r.FormValue("query"), ts)
	a.run(w, ctx, q, err)
}

func (a *API) queryRange(w http.ResponseWriter, r *http.Request) {
	start, err1 := parseTime(r.FormValue("start"))
	end, err2 := parseTime(r.FormValue("end"))
	step, err3 := parseDuration(r.FormValue("step"))
	switch {
	case errors.Join(err1, err2, err3) != nil:
		fail(w, http.StatusBadRequest, "bad_data", errors.Join(err1, err2, err3).Error())
		return
	case end.Before(start):
		fail(w, http.StatusBadRequest, "bad_data", "end timestamp must not be before start time")
		return
	case step <= 0:
		fail(w, http.StatusBadRequest, "bad_data", "zero or negative query resolution step widths are not accepted")
		return
	case end.Sub(start)/step > 11000:
		fail(w, http.StatusBadRequest, "bad_data", "exceeded maximum resolution of 11,000 points per timeseries")
		return
	}
	ctx, cancel := a.withTimeout(r)
	defer cancel()
	q, err := a.Engine.NewRangeQuery(ctx, a.Queryable, nil, r.FormValue("query"), start, end, step)
	a.run(w, ctx, q, err)
}

func (a *API) run(w http.ResponseWriter, ctx context.Context, q promql.Query, err error) {
	if err != nil {
		fail(w, http.StatusBadRequest, "bad_data", err.Error())
		return
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		var eTimeout promql.ErrQueryTimeout
		if errors.As(res.Err, &eTimeout) || errors.Is(res.Err, context.DeadlineExceeded) {
			fail(w, http.StatusServiceUnavailable, "timeout", res.Err.Error())
			return
		}
		fail(w, http.StatusUnprocessableEntity, "execution", res.Err.Error())
		return
	}
	ok(w, map[string]any{"resultType": string(res.Value.Type()), "result": render(res.Value)})
}

func (a *API) matchersAndRange(r *http.Request) ([][]*labels.Matcher, int64, int64, error) {
	if err := r.ParseForm(); err != nil {
		return nil, 0, 0, err
	}
	start, err := parseTimeParam(r, "start", time.Unix(0, 0))
	if err != nil {
		return nil, 0, 0, err
	}
	end, err := parseTimeParam(r, "end", a.now().Add(time.Hour))
	if err != nil {
		return nil, 0, 0, err
	}
	var sets [][]*labels.Matcher
	for _, m := range r.Form["match[]"] {
		ms, err := a.parser().ParseMetricSelector(m)
		if err != nil {
			return nil, 0, 0, err
		}
		sets = append(sets, ms)
	}
	return sets, start.UnixMilli(), end.UnixMilli(), nil
}

func (a *API) labelNames(w http.ResponseWriter, r *http.Request) {
	a.labels(w, r, "")
}

func (a *API) labelValues(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !model.LegacyValidation.IsValidLabelName(name) { // as Prometheus 2 checks them
		fail(w, http.StatusBadRequest, "bad_data", fmt.Sprintf("invalid label name: %q", name))
		return
	}
	a.labels(w, r, name)
}

// labels answers label names (name == "") or one label's values.
func (a *API) labels(w http.ResponseWriter, r *http.Request, name string) {
	sets, mint, maxt, err := a.matchersAndRange(r)
	if err != nil {
		fail(w, http.StatusBadRequest, "bad_data", err.Error())
		return
	}
	q, err := a.Queryable.Querier(mint, maxt)
	if err != nil {
		fail(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	defer q.Close()
	if len(sets) == 0 {
		sets = [][]*labels.Matcher{nil}
	}
	seen := map[string]bool{}
	for _, ms := range sets {
		var vals []string
		if name == "" {
			vals, _, err = q.LabelNames(r.Context(), nil, ms...)
		} else {
			vals, _, err = q.LabelValues(r.Context(), name, nil, ms...)
		}
		if err != nil {
			fail(w, http.StatusUnprocessableEntity, "execution", err.Error())
			return
		}
		for _, v := range vals {
			seen[v] = true
		}
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	slices.Sort(out)
	ok(w, out)
}

func (a *API) series(w http.ResponseWriter, r *http.Request) {
	sets, mint, maxt, err := a.matchersAndRange(r)
	switch {
	case err != nil:
		fail(w, http.StatusBadRequest, "bad_data", err.Error())
		return
	case len(sets) == 0:
		fail(w, http.StatusBadRequest, "bad_data", "no match[] parameter provided")
		return
	}
	q, err := a.Queryable.Querier(mint, maxt)
	if err != nil {
		fail(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	defer q.Close()
	var out []map[string]string
	seen := map[string]bool{}
	for _, ms := range sets {
		ss := q.Select(r.Context(), false, &storage.SelectHints{Start: mint, End: maxt, Func: "series"}, ms...)
		for ss.Next() {
			l := ss.At().Labels()
			if k := l.String(); !seen[k] {
				seen[k] = true
				out = append(out, l.Map())
			}
		}
		if err := ss.Err(); err != nil {
			fail(w, http.StatusUnprocessableEntity, "execution", err.Error())
			return
		}
	}
	if out == nil {
		out = []map[string]string{}
	}
	ok(w, out)
}

func (a *API) parser() parser.Parser {
	if a.Parser == nil {
		return parser.NewParser(parser.Options{})
	}
	return a.Parser
}

func (a *API) withTimeout(r *http.Request) (context.Context, context.CancelFunc) {
	d := a.Timeout
	if d <= 0 {
		d = 2 * time.Minute
	}
	if t, err := parseDuration(r.FormValue("timeout")); err == nil && t > 0 && t < d {
		d = t
	}
	return context.WithTimeout(r.Context(), d)
}

func parseTimeParam(r *http.Request, name string, def time.Time) (time.Time, error) {
	v := r.FormValue(name)
	if v == "" {
		return def, nil
	}
	t, err := parseTime(v)
	if err != nil {
		return t, fmt.Errorf("invalid %s: %w", name, err)
	}
	return t, nil
}

// parseTime reads unix seconds (with fraction) or RFC 3339.
func parseTime(s string) (time.Time, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1000))*int64(time.Millisecond)).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

// parseDuration reads seconds (with fraction) or a Prometheus duration.
func parseDuration(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := model.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
	}
	return time.Duration(d), nil
}

func ok(w http.ResponseWriter, data any) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": data})
}

// fail writes Prometheus' error body.
func fail(w http.ResponseWriter, code int, typ, msg string) {
	writeJSON(w, code, map[string]any{"status": "error", "errorType": typ, "error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
