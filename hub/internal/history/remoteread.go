package history

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// RemoteRanger evaluates queries on a remote Prometheus-compatible query
// API (--history-url), e.g. Prometheus, Thanos Query, Mimir, VictoriaMetrics.
type RemoteRanger struct {
	Base   *url.URL
	Client *http.Client
}

// Range runs /api/v1/query_range remotely.
func (r *RemoteRanger) Range(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]*gpumonv1.Series, error) {
	q := url.Values{"query": {expr}, "start": {unix(start)}, "end": {unix(end)}, "step": {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)}}
	return r.do(ctx, "/api/v1/query_range", q)
}

// Instant runs /api/v1/query remotely.
func (r *RemoteRanger) Instant(ctx context.Context, expr string, t time.Time) ([]*gpumonv1.Series, error) {
	return r.do(ctx, "/api/v1/query", url.Values{"query": {expr}, "time": {unix(t)}})
}

func unix(t time.Time) string { return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64) }

type apiResponse struct {
	Status string `json:"status"`
	Error  string `json:"error"`
	Data   struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
			Value  *[2]any           `json:"value"`
		} `json:"result"`
	} `json:"data"`
}

func (r *RemoteRanger) do(ctx context.Context, path string, q url.Values) ([]*gpumonv1.Series, error) {
	u := *r.Base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(q.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	client := r.Client
	if client == nil {
		client = &http.Client{Timeout: 2 * time.Minute}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("remote history: %w", err)
	}
	defer resp.Body.Close()
	var ar apiResponse
	if err := json.NewDecoder(resp.Body).Decode(&ar); err != nil {
		return nil, fmt.Errorf("remote history %s: %s: not a Prometheus API answer: %w", u.Redacted(), resp.Status, err)
	}
	if ar.Status != "success" {
		return nil, fmt.Errorf("remote history: %s", ar.Error)
	}
	var out []*gpumonv1.Series
	for _, res := range ar.Data.Result {
		s := &gpumonv1.Series{Metric: res.Metric["__name__"], Labels: map[string]string{}}
		for k, v := range res.Metric {
			if k != "__name__" {
				s.Labels[k] = v
			}
		}
		vals := res.Values
		if res.Value != nil {
			vals = append(vals, *res.Value)
		}
		for _, p := range vals {
			t, _ := p[0].(float64)
			str, _ := p[1].(string)
			v, err := strconv.ParseFloat(str, 64)
			if err != nil {
				continue
			}
			s.Points = append(s.Points, &gpumonv1.Point{Time: t, Value: v})
		}
		out = append(out, s)
	}
	return out, nil
}
