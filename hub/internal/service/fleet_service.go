package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gpumon/gpumon/common/apimeta"
	"github.com/gpumon/gpumon/common/redact"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/audit"
	"github.com/gpumon/gpumon/hub/internal/fleet"
	"github.com/gpumon/gpumon/hub/internal/gpustate"
	"github.com/gpumon/gpumon/hub/internal/validate"
)

// KillTimeout bounds the wait for an agent's answer to a kill command.
const KillTimeout = 15 * time.Second

// MaxKillPIDs bounds one kill request.
const MaxKillPIDs = 1000

// HistoryQuerier answers history and accounting queries.
type HistoryQuerier interface {
	Query(ctx context.Context, req *gpumonv1.QueryHistoryRequest) (*gpumonv1.QueryHistoryResponse, error)
	Usage(ctx context.Context, req *gpumonv1.GetUsageRequest) (*gpumonv1.GetUsageResponse, error)
}

// Fleet implements FleetService.
type Fleet struct {
	gpumonv1.UnimplementedFleetServiceServer
	Fleet   *fleet.Fleet
	Sink    Sink
	History HistoryQuerier
	// OnForget is told about forgotten machines (history accounting).
	OnForget func(m *fleet.Machine)
	// Redact hides secrets in the command lines of posted reports (agents
	// redact their own).
	Redact *redact.Redactor
	Stats  *Stats
	Log    *slog.Logger
	// Heartbeat is the watch stream's keep-alive period.
	Heartbeat time.Duration
	// Stopping is closed when the hub shuts down; watch streams end.
	Stopping <-chan struct{}
	// Alerts lists the alerts of the hub's rules; nil when it has none.
	Alerts AlertLister
	// Capacity bounds new machines and report sizes.
	Capacity Capacity
	// Audit records kills, forgets and refused reports; may be nil.
	Audit *audit.Log
	// Watchers caps watch streams; shared by every server of the hub.
	Watchers *Watchers
	// WatchMaxLag: a watcher this far behind is disconnected (default
	// DefaultWatchMaxLag).
	WatchMaxLag time.Duration

	instanceOnce sync.Once
	instanceID   string
}

// instance tells this process's fleet versions from another's (a restarted
// hub counts its versions from the start again).
func (s *Fleet) instance() string {
	s.instanceOnce.Do(func() { s.instanceID = strconv.FormatInt(time.Now().UnixNano(), 36) })
	return s.instanceID
}

// GetGpuStats returns every machine's latest report with is_online. It
// sends the fleet version in the response header; a caller that already
// holds the answer for the current version (it says which in the request
// metadata) gets an empty message instead (see apimeta.FleetVersion).
func (s *Fleet) GetGpuStats(ctx context.Context, _ *gpumonv1.GetGpuStatsRequest) (*gpumonv1.GetGpuStatsResponse, error) {
	// Read before listing: an answer is never older than its version.
	version := s.instance() + "." + strconv.FormatUint(s.Fleet.Version(), 10)
	_ = grpc.SetHeader(ctx, metadata.Pairs(apimeta.FleetVersion, version))
	if md, ok := metadata.FromIncomingContext(ctx); ok && slices.Contains(md.Get(apimeta.IfVersion), version) || authorizeOnly(ctx) {
		return &gpumonv1.GetGpuStatsResponse{}, nil
	}
	resp := &gpumonv1.GetGpuStatsResponse{Machines: map[string]*gpumonv1.Report{}}
	for _, m := range s.Fleet.List() {
		if r := m.Rendered(); r != nil {
			resp.Machines[m.Key] = r
		}
	}
	return resp, nil
}

// ReportGpuStats stores a report posted to the documented route.
func (s *Fleet) ReportGpuStats(ctx context.Context, req *gpumonv1.ReportGpuStatsRequest) (*gpumonv1.ReportGpuStatsResponse, error) {
	r := req.GetReport()
	m, err := s.ingestLegacy(r)
	if err != nil {
		st := status.Convert(err)
		s.Audit.Call(ctx, slog.LevelWarn, "report refused", audit.Entry{Result: st.Code().String(), Attrs: []any{"host", r.GetHostname(), "reason", st.Message()}})
		return nil, err
	}
	s.Stats.LegacyPost.Add(1)
	if s.Sink != nil {
		if err := s.Sink.Record(m, r, 0); err != nil {
			return nil, status.Errorf(codes.Unavailable, "report shown as current but not stored in history: %v", err)
		}
	}
	return &gpumonv1.ReportGpuStatsResponse{Status: "success", Message: "Data received"}, nil
}

// ingestLegacy checks and stores a posted report, or refuses it.
func (s *Fleet) ingestLegacy(r *gpumonv1.Report) (*fleet.Machine, error) {
	if r == nil {
		return nil, status.Error(codes.InvalidArgument, "body must be a report object")
	}
	redactReport(r, s.Redact)
	if err := validate.Report(r); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if err := s.Capacity.check(r); err != nil {
		return nil, err
	}
	m := s.Fleet.IngestLegacy(r)
	if m == nil {
		return nil, s.Capacity.full(r.GetHostname())
	}
	return m, nil
}

// KillProcesses asks a machine's agent to stop processes, and records the
// request and its outcome in the audit trail.
func (s *Fleet) KillProcesses(ctx context.Context, req *gpumonv1.KillProcessesRequest) (*gpumonv1.KillProcessesResponse, error) {
	resp, err := s.kill(ctx, req)
	result, detail := status.Code(err).String(), status.Convert(err).Message()
	if err == nil {
		result = resp.GetStatus()
		var per []string
		for _, r := range resp.GetResults() {
			per = append(per, fmt.Sprintf("%d %s: %s", r.GetPid(), r.GetStatus(), r.GetMessage()))
		}
		detail = strings.Join(per, "; ")
	}
	s.Audit.Call(ctx, slog.LevelInfo, "kill", audit.Entry{Result: result,
		Attrs: []any{"host", req.GetHostname(), "pids", req.GetPids(), "force", req.GetForce(), "detail", detail}})
	return resp, err
}

func (s *Fleet) kill(ctx context.Context, req *gpumonv1.KillProcessesRequest) (*gpumonv1.KillProcessesResponse, error) {
	switch n := len(req.GetPids()); {
	case req.GetHostname() == "":
		return nil, status.Error(codes.InvalidArgument, "hostname is required")
	case n == 0:
		return nil, status.Error(codes.InvalidArgument, "pids must list at least one process id")
	case n > MaxKillPIDs:
		return nil, status.Errorf(codes.InvalidArgument, "at most %d pids per request", MaxKillPIDs)
	}
	for i, pid := range req.GetPids() {
		if pid < 1 {
			return nil, status.Errorf(codes.InvalidArgument, "pids[%d] = %d is not a process id (want a whole number from 1 to %d)", i, pid, math.MaxInt32)
		}
	}
	m, ok := s.Fleet.Get(req.GetHostname())
	if !ok {
		return nil, status.Errorf(codes.NotFound, "no machine named %q", req.GetHostname())
	}
	conn := m.Conn()
	if conn == nil {
		return nil, status.Errorf(codes.Unavailable, "machine %q has no connected agent (nor an original collector on /ws)", m.Key)
	}
	if !conn.CanKill {
		return nil, status.Errorf(codes.PermissionDenied, "the agent on %q does not allow kills (start it with --allow-kill)", m.Key)
	}
	ctx, cancel := context.WithTimeout(ctx, KillTimeout)
	defer cancel()
	res, err := conn.Call(ctx, &gpumonv1.Command{Kind: &gpumonv1.Command_Kill{
		Kill: &gpumonv1.KillCommand{Pids: req.GetPids(), Force: req.GetForce()},
	}})
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return nil, status.Errorf(codes.DeadlineExceeded, "the agent on %q did not answer within %s", m.Key, KillTimeout)
	case errors.Is(err, fleet.ErrStreamClosed):
		return nil, status.Errorf(codes.Unavailable, "kill on %q: the machine disconnected before it answered; the processes may or may not have been signalled", m.Key)
	case err != nil:
		return nil, status.Errorf(codes.Unavailable, "kill on %q: %v", m.Key, err)
	}
	return killResponse(res), nil
}

func killResponse(res *gpumonv1.CommandResult) *gpumonv1.KillProcessesResponse {
	out := &gpumonv1.KillProcessesResponse{Status: "success", Results: res.GetKillResults()}
	failed := 0
	for _, r := range out.Results {
		if r.GetStatus() != "success" {
			failed++
		}
	}
	switch {
	case !res.GetOk() && failed == 0:
		out.Status, out.Message = "error", res.GetMessage()
	case failed > 0:
		out.Status = "error"
		out.Message = fmt.Sprintf("%d of %s could not be signalled", failed, processes(len(out.Results)))
	default:
		out.Message = "signalled " + processes(len(out.Results))
	}
	return out
}

// processes counts processes in words: "1 process", "2 processes".
func processes(n int) string {
	if n == 1 {
		return "1 process"
	}
	return fmt.Sprintf("%d processes", n)
}

// authorizeOnly: the caller, having passed the checks, asks for nothing
// more (apimeta.AnyVersion); the hub's REST shortcuts answer from their own
// caches.
func authorizeOnly(ctx context.Context) bool {
	md, _ := metadata.FromIncomingContext(ctx)
	return slices.Contains(md.Get(apimeta.IfVersion), apimeta.AnyVersion)
}

// ListMachines summarises every machine.
func (s *Fleet) ListMachines(ctx context.Context, req *gpumonv1.ListMachinesRequest) (*gpumonv1.ListMachinesResponse, error) {
	if authorizeOnly(ctx) {
		return &gpumonv1.ListMachinesResponse{}, nil
	}
	resp := &gpumonv1.ListMachinesResponse{}
	for _, m := range s.Fleet.List() {
		sum := m.Summary()
		if req.GetOnlineOnly() && !sum.Online {
			continue
		}
		resp.Machines = append(resp.Machines, sum)
	}
	resp.Totals = fleet.Totals(resp.Machines)
	return resp, nil
}

// GetMachine returns one machine in full.
func (s *Fleet) GetMachine(_ context.Context, req *gpumonv1.GetMachineRequest) (*gpumonv1.GetMachineResponse, error) {
	m, ok := s.Fleet.Get(req.GetMachine())
	if !ok || m.State() == nil {
		return nil, status.Errorf(codes.NotFound, "no machine named %q", req.GetMachine())
	}
	st := m.State() // one state for both: the summary describes the report
	return &gpumonv1.GetMachineResponse{Summary: m.SummaryOf(st), Report: fleet.RenderedOf(st)}, nil
}

// ForgetMachine removes an offline machine, and records the request and its
// outcome in the audit trail.
func (s *Fleet) ForgetMachine(ctx context.Context, req *gpumonv1.ForgetMachineRequest) (*gpumonv1.ForgetMachineResponse, error) {
	err := s.forget(req.GetMachine())
	s.Audit.Call(ctx, slog.LevelInfo, "forget", audit.Entry{Result: status.Code(err).String(),
		Attrs: []any{"machine", req.GetMachine(), "reason", status.Convert(err).Message()}})
	if err != nil {
		return nil, err
	}
	return &gpumonv1.ForgetMachineResponse{}, nil
}

func (s *Fleet) forget(key string) error {
	m, _ := s.Fleet.Get(key)
	switch err := s.Fleet.Forget(key); {
	case errors.Is(err, fleet.ErrNotFound):
		return status.Errorf(codes.NotFound, "no machine named %q", key)
	case errors.Is(err, fleet.ErrOnline):
		return status.Errorf(codes.FailedPrecondition, "machine %q is online: stop its agent first", key)
	case err != nil:
		return status.Error(codes.Internal, err.Error())
	}
	if s.OnForget != nil {
		s.OnForget(m)
	}
	return nil
}

// ListFreeGpus lists free GPUs, best first, and the criteria it applied.
func (s *Fleet) ListFreeGpus(_ context.Context, req *gpumonv1.ListFreeGpusRequest) (*gpumonv1.ListFreeGpusResponse, error) {
	c, err := gpustate.Criteria(req)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &gpumonv1.ListFreeGpusResponse{Gpus: s.Fleet.FreeGPUs(c), Criteria: c}, nil
}

// ListGpus lists every GPU of the fleet, one compact row each.
func (s *Fleet) ListGpus(_ context.Context, req *gpumonv1.ListGpusRequest) (*gpumonv1.ListGpusResponse, error) {
	return &gpumonv1.ListGpusResponse{Gpus: s.Fleet.GPUs(req.GetIncludeOffline())}, nil
}

// QueryHistory answers from the history store.
func (s *Fleet) QueryHistory(ctx context.Context, req *gpumonv1.QueryHistoryRequest) (*gpumonv1.QueryHistoryResponse, error) {
	if s.History == nil {
		return nil, status.Error(codes.Unimplemented, "this hub keeps no history")
	}
	return s.History.Query(ctx, req)
}

// GetUsage answers from the history store.
func (s *Fleet) GetUsage(ctx context.Context, req *gpumonv1.GetUsageRequest) (*gpumonv1.GetUsageResponse, error) {
	if s.History == nil {
		return nil, status.Error(codes.Unimplemented, "this hub keeps no history")
	}
	return s.History.Usage(ctx, req)
}

func now() *timestamppb.Timestamp { return timestamppb.Now() }

// redactReport hides secrets in every command line of r.
func redactReport(r *gpumonv1.Report, red *redact.Redactor) {
	for _, p := range r.GetSystemInfo().GetProcesses() {
		p.Cmdline = red.Cmdline(p.Cmdline)
	}
	for _, g := range r.GetGpuData() {
		for _, p := range g.GetProcesses() {
			p.Cmdline = red.Cmdline(p.Cmdline)
		}
	}
}
