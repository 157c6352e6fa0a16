package promapi

import (
	"math"
	"strconv"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
)

// render converts a PromQL value to the API's JSON shape.
func render(v parser.Value) any {
	switch x := v.(type) {
	case promql.Matrix:
		out := make([]map[string]any, 0, len(x))
		for _, s := range x {
			vals := make([][2]any, 0, len(s.Floats))
			for _, p := range s.Floats {
				vals = append(vals, point(p.T, p.F))
			}
			out = append(out, map[string]any{"metric": metric(s.Metric), "values": vals})
		}
		return out
	case promql.Vector:
		out := make([]map[string]any, 0, len(x))
		for _, s := range x {
			out = append(out, map[string]any{"metric": metric(s.Metric), "value": point(s.T, s.F)})
		}
		return out
	case promql.Scalar:
		return point(x.T, x.V)
	case promql.String:
		return [2]any{float64(x.T) / 1000, x.V}
	}
	return nil
}

func metric(l labels.Labels) map[string]string {
	m := l.Map()
	if m == nil {
		m = map[string]string{}
	}
	return m
}

func point(t int64, v float64) [2]any {
	return [2]any{float64(t) / 1000, formatFloat(v)}
}

// formatFloat writes values as Prometheus does: strings, NaN and ±Inf spelled out.
func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
