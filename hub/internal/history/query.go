package history

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// Limits of the native history route.
const (
	MaxPoints    = 11000
	DefaultRange = time.Hour
	MinWindow    = 15 * time.Second
)

// Ranger evaluates PromQL: the embedded store, or a remote Prometheus API.
type Ranger interface {
	Range(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]*gpumonv1.Series, error)
	Instant(ctx context.Context, expr string, t time.Time) ([]*gpumonv1.Series, error)
}

// Range evaluates a range query over the store.
func (s *Store) Range(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]*gpumonv1.Series, error) {
	q, err := s.engine.NewRangeQuery(ctx, s.Queryable(), nil, expr, start, end, step)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	return toSeries(q.Exec(ctx))
}

// Instant evaluates an instant query over the store.
func (s *Store) Instant(ctx context.Context, expr string, t time.Time) ([]*gpumonv1.Series, error) {
	q, err := s.engine.NewInstantQuery(ctx, s.Queryable(), nil, expr, t)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	return toSeries(q.Exec(ctx))
}

func toSeries(res *promql.Result) ([]*gpumonv1.Series, error) {
	if res.Err != nil {
		return nil, res.Err
	}
	var out []*gpumonv1.Series
	add := func(l labels.Labels, pts []*gpumonv1.Point) {
		s := &gpumonv1.Series{Metric: l.Get(labels.MetricName), Labels: map[string]string{}, Points: pts}
		l.Range(func(lb labels.Label) {
			if lb.Name != labels.MetricName {
				s.Labels[lb.Name] = lb.Value
			}
		})
		out = append(out, s)
	}
	switch v := res.Value.(type) {
	case promql.Matrix:
		for _, ser := range v {
			pts := make([]*gpumonv1.Point, 0, len(ser.Floats))
			for _, p := range ser.Floats {
				pts = append(pts, &gpumonv1.Point{Time: float64(p.T) / 1000, Value: p.F})
			}
			add(ser.Metric, pts)
		}
	case promql.Vector:
		for _, smp := range v {
			add(smp.Metric, []*gpumonv1.Point{{Time: float64(smp.T) / 1000, Value: smp.F}})
		}
	case promql.Scalar:
		add(labels.EmptyLabels(), []*gpumonv1.Point{{Time: float64(v.T) / 1000, Value: v.V}})
	default:
		return nil, fmt.Errorf("unexpected result type %s", res.Value.Type())
	}
	return out, nil
}

var metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)

// Service answers the native history and usage routes.
type Service struct {
	Ranger Ranger
	// Idle lists the GPUs that are idle-held now (the fleet's state).
	Idle func() []*gpumonv1.IdleGpu
	// IdleAfter is the hub's --idle-after, reported with usage.
	IdleAfter time.Duration
	Now       func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Query answers QueryHistory: avg_over_time of the metric per step.
func (s *Service) Query(ctx context.Context, req *gpumonv1.QueryHistoryRequest) (*gpumonv1.QueryHistoryResponse, error) {
	name := req.GetMetric()
	if f, ok := friendly[name]; ok {
		name = f
	}
	if name == "" || !metricName.MatchString(name) {
		return nil, status.Errorf(codes.InvalidArgument, "metric %q: want a metric name such as %s", req.GetMetric(), friendlyList())
	}
	start, end, err := s.span(req.GetStart(), req.GetEnd(), DefaultRange)
	if err != nil {
		return nil, err
	}
	step := req.GetStep().AsDuration()
	if step <= 0 {
		step = max(end.Sub(start)/300, time.Second).Round(time.Second)
	}
	if step < time.Second || end.Sub(start)/step > MaxPoints {
		return nil, status.Errorf(codes.InvalidArgument, "step %s: want at least 1s and at most %d points", step, MaxPoints)
	}
	sel := []string{}
	if req.GetMachine() != "" {
		sel = append(sel, "machine="+strconv.Quote(req.GetMachine()))
	}
	if req.Gpu != nil {
		sel = append(sel, "gpu="+strconv.Quote(strconv.Itoa(int(req.GetGpu()))))
	}
	window := max(step, MinWindow)
	expr := fmt.Sprintf("avg_over_time(%s{%s}[%dms])", name, strings.Join(sel, ","), window.Milliseconds())
	series, err := s.Ranger.Range(ctx, expr, start, end, step)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "history query: %v", err)
	}
	for _, ser := range series {
		ser.Metric = name
	}
	sort.Slice(series, func(i, j int) bool { return seriesKey(series[i]) < seriesKey(series[j]) })
	return &gpumonv1.QueryHistoryResponse{Series: series, StepSeconds: step.Seconds()}, nil
}

func seriesKey(s *gpumonv1.Series) string {
	g, _ := strconv.Atoi(s.Labels["gpu"])
	return fmt.Sprintf("%s\x00%04d\x00%s\x00%s", s.Labels["machine"], g, s.Labels["user"], s.Labels["container"])
}

func (s *Service) span(st, en *timestamppb.Timestamp, def time.Duration) (time.Time, time.Time, error) {
	end := s.now()
	if en != nil {
		end = en.AsTime()
	}
	start := end.Add(-def)
	if st != nil {
		start = st.AsTime()
	}
	if !start.Before(end) {
		return start, end, status.Errorf(codes.InvalidArgument, "start %s is not before end %s", start.Format(time.RFC3339), end.Format(time.RFC3339))
	}
	if end.Sub(start) > 400*24*time.Hour {
		return start, end, status.Error(codes.InvalidArgument, "range longer than 400 days")
	}
	return start, end, nil
}

// usageFigure is one figure of the usage answer: the sum of a _delta series
// over the range, by user or by machine, and where it goes in a row.
type usageFigure struct {
	series, by string
	scale      float64
	set        func(*gpumonv1.UsageRow, float64)
}

var usageFigures = []usageFigure{
	{UserGPUSecsDelta, "user", 3600, func(u *gpumonv1.UsageRow, v float64) { u.GpuHours = v }},
	{UserGPUMemSecsDelta, "user", 1024 * 3600, func(u *gpumonv1.UsageRow, v float64) { u.GpuMemoryGibHours = v }},
	{MachineGPUSecsDelta, "machine", 3600, func(u *gpumonv1.UsageRow, v float64) { u.GpuHours = v }},
	{MachineGPUMemSecsDelta, "machine", 1024 * 3600, func(u *gpumonv1.UsageRow, v float64) { u.GpuMemoryGibHours = v }},
}

// usageExpr asks for every usage figure in one query, so that all of them
// come from one view of the store (samples appended while it runs are in all
// or in none): each figure's series are tagged with its index.
func usageExpr(window string) string {
	parts := make([]string, len(usageFigures))
	for i, f := range usageFigures {
		parts[i] = fmt.Sprintf(`label_replace(sum by (%s) (sum_over_time(%s%s)), "figure", "%d", "", "")`, f.by, f.series, window, i)
	}
	return strings.Join(parts, " or ")
}

// Usage answers GetUsage: the per-sample additions to the accounting summed
// over the range, so users' and machines' memory add up to the same total.
func (s *Service) Usage(ctx context.Context, req *gpumonv1.GetUsageRequest) (*gpumonv1.GetUsageResponse, error) {
	start, end, err := s.span(req.GetStart(), req.GetEnd(), 7*24*time.Hour)
	if err != nil {
		return nil, err
	}
	series, err := s.Ranger.Instant(ctx, usageExpr(fmt.Sprintf("[%ds]", int64(math.Ceil(end.Sub(start).Seconds())))), end)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "usage query: %v", err)
	}
	resp := &gpumonv1.GetUsageResponse{Start: timestamppb.New(start), End: timestamppb.New(end),
		IdleAfterSeconds: s.IdleAfter.Seconds(), Total: &gpumonv1.UsageRow{Name: "total"}}
	rows := map[string]map[string]*gpumonv1.UsageRow{"user": {}, "machine": {}}
	for _, ser := range series {
		i, err := strconv.Atoi(ser.Labels["figure"])
		if err != nil || i < 0 || i >= len(usageFigures) {
			continue
		}
		f := usageFigures[i]
		name := ser.Labels[f.by]
		if rows[f.by][name] == nil {
			rows[f.by][name] = &gpumonv1.UsageRow{Name: name}
		}
		f.set(rows[f.by][name], lastValue(ser)/f.scale)
	}
	for _, u := range rows["user"] {
		resp.Users = append(resp.Users, u)
	}
	for _, m := range rows["machine"] {
		resp.Machines = append(resp.Machines, m)
	}
	sortRows(resp.Users)
	sortRows(resp.Machines)
	for _, m := range resp.Machines {
		resp.Total.GpuHours += m.GpuHours
		resp.Total.GpuMemoryGibHours += m.GpuMemoryGibHours
	}
	if s.Idle != nil {
		resp.IdleHeld = s.Idle()
	}
	return resp, nil
}

func lastValue(s *gpumonv1.Series) float64 {
	if len(s.Points) == 0 || math.IsNaN(s.Points[len(s.Points)-1].Value) {
		return 0
	}
	return s.Points[len(s.Points)-1].Value
}

func sortRows(rows []*gpumonv1.UsageRow) {
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].GpuHours != rows[j].GpuHours {
			return rows[i].GpuHours > rows[j].GpuHours
		}
		return rows[i].Name < rows[j].Name
	})
}

func friendlyList() string {
	names := make([]string, 0, len(friendly))
	for n := range friendly {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
