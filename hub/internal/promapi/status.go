package promapi

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/gpumon/gpumon/common/metricset"
)

// APIVersion is the Prometheus release whose HTTP API the hub answers as;
// Grafana reads it from /api/v1/status/buildinfo to choose features.
const APIVersion = "2.53.0"

// metadataEntry is one HELP and TYPE of a metric, as /api/v1/metadata
// writes it.
type metadataEntry struct {
	Type string `json:"type"`
	Help string `json:"help"`
	Unit string `json:"unit"`
}

// metadata answers /api/v1/metadata from what the hub declares: the
// families of /metrics and those of the series its history holds. Like
// Prometheus it takes metric, limit and limit_per_metric.
func (a *API) metadata(w http.ResponseWriter, r *http.Request) {
	limit, err1 := intParam(r, "limit")
	perMetric, err2 := intParam(r, "limit_per_metric")
	if err := errors.Join(err1, err2); err != nil {
		fail(w, http.StatusBadRequest, "bad_data", err.Error())
		return
	}
	var families []metricset.Family
	if a.Metadata != nil {
		families = a.Metadata()
	}
	slices.SortStableFunc(families, func(x, y metricset.Family) int { return strings.Compare(x.Name, y.Name) })
	want := r.FormValue("metric")
	out := map[string][]metadataEntry{}
	for _, f := range families {
		if want != "" && f.Name != want {
			continue
		}
		entries, seen := out[f.Name]
		if !seen && limit >= 0 && len(out) >= limit {
			break
		}
		e := metadataEntry{Type: string(f.Type), Help: f.Help}
		if perMetric > 0 && len(entries) >= perMetric || slices.Contains(entries, e) {
			continue
		}
		out[f.Name] = append(entries, e)
	}
	ok(w, out)
}

// intParam reads an optional integer parameter; -1 when absent.
func intParam(r *http.Request, name string) (int, error) {
	s := r.FormValue(name)
	if s == "" {
		return -1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s must be a number", name)
	}
	return n, nil
}

// queryExemplars validates the request as Prometheus does and answers that
// there are none: the hub stores no exemplars.
func (a *API) queryExemplars(w http.ResponseWriter, r *http.Request) {
	start, err1 := parseTimeParam(r, "start", time.UnixMilli(math.MinInt64/2))
	end, err2 := parseTimeParam(r, "end", time.UnixMilli(math.MaxInt64/2))
	_, err3 := a.parser().ParseExpr(r.FormValue("query"))
	switch {
	case errors.Join(err1, err2, err3) != nil:
		fail(w, http.StatusBadRequest, "bad_data", errors.Join(err1, err2, err3).Error())
	case end.Before(start):
		fail(w, http.StatusBadRequest, "bad_data", "end timestamp must not be before start timestamp")
	default:
		ok(w, []any{})
	}
}

// formatQuery answers the query, pretty-printed.
func (a *API) formatQuery(w http.ResponseWriter, r *http.Request) {
	expr, err := a.parser().ParseExpr(r.FormValue("query"))
	if err != nil {
		fail(w, http.StatusBadRequest, "bad_data", fmt.Sprintf("invalid parameter %q: %v", "query", err))
		return
	}
	ok(w, expr.Pretty(0))
}

func (a *API) buildInfo(w http.ResponseWriter, _ *http.Request) {
	ok(w, map[string]string{
		"version": APIVersion, "revision": "gpumon-hub " + a.Version, "branch": "", "buildUser": "", "buildDate": "",
		"goVersion": runtime.Version(),
	})
}

// runtimeInfo answers Prometheus's keys for what the hub is: no config file
// to reload, no corruption seen, and its history's retention. The working
// directory is not published.
func (a *API) runtimeInfo(w http.ResponseWriter, _ *http.Request) {
	ok(w, map[string]any{
		"startTime":           a.Started.UTC(),
		"CWD":                 "",
		"reloadConfigSuccess": true,
		"lastConfigTime":      a.Started.UTC().Truncate(time.Second),
		"corruptionCount":     0,
		"goroutineCount":      runtime.NumGoroutine(),
		"GOMAXPROCS":          runtime.GOMAXPROCS(0),
		"GOGC":                os.Getenv("GOGC"),
		"GODEBUG":             os.Getenv("GODEBUG"),
		"storageRetention":    model.Duration(a.Retention).String(),
	})
}

// config answers an empty configuration: the hub reads no Prometheus
// configuration file.
func (a *API) config(w http.ResponseWriter, _ *http.Request) {
	ok(w, map[string]string{"yaml": ""})
}

// flags answers, under Prometheus's flag names, the settings of the hub's
// query engine and history that Prometheus would list.
func (a *API) flags(w http.ResponseWriter, _ *http.Request) {
	ok(w, maps.Clone(a.Flags))
}
