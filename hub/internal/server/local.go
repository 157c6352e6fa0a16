package server

import (
	"context"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/peer"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/caller"
)

// localFleet is the hub's FleetService as its REST routes call it in this
// process: every call passes the hub's interceptors (auth first) exactly as
// a gRPC call does. A method added to the service and not listed here
// answers Unimplemented on REST, never unchecked.
type localFleet struct {
	gpumonv1.UnimplementedFleetServiceServer
	srv    gpumonv1.FleetServiceServer
	unary  grpc.UnaryServerInterceptor
	stream grpc.StreamServerInterceptor
}

// inProcess is the peer of a call from the hub's own REST routes: its
// caller's address is the last X-Forwarded-For entry, which the routes
// append themselves (caller.Address).
var inProcess = &peer.Peer{Addr: inProcessAddr{}}

type inProcessAddr struct{}

func (inProcessAddr) Network() string { return caller.InProcess }
func (inProcessAddr) String() string  { return "hub" }

// callContext is ctx as a gRPC call to method would see it: from the
// in-process peer, with grpc.Method naming the method.
func callContext(ctx context.Context, method string) context.Context {
	ctx = peer.NewContext(ctx, inProcess)
	inner := grpc.ServerTransportStreamFromContext(ctx)
	if inner == nil {
		inner = &runtime.ServerTransportStream{}
	}
	return grpc.NewContextWithServerTransportStream(ctx, methodStream{ServerTransportStream: inner, method: method})
}

// methodStream is a ServerTransportStream that knows its method (the REST
// routes' own does not).
type methodStream struct {
	grpc.ServerTransportStream
	method string
}

func (m methodStream) Method() string { return m.method }

// unary runs f through l's interceptors as method.
func unary[Req, Resp any](ctx context.Context, l *localFleet, method string, req *Req, f func(context.Context, *Req) (*Resp, error)) (*Resp, error) {
	ctx = callContext(ctx, method)
	info := &grpc.UnaryServerInfo{Server: l.srv, FullMethod: method}
	resp, err := l.unary(ctx, req, info, func(ctx context.Context, req any) (any, error) { return f(ctx, req.(*Req)) })
	if err != nil {
		return nil, err
	}
	r, _ := resp.(*Resp)
	return r, nil
}

func (l *localFleet) GetGpuStats(ctx context.Context, req *gpumonv1.GetGpuStatsRequest) (*gpumonv1.GetGpuStatsResponse, error) {
	return unary(ctx, l, gpumonv1.FleetService_GetGpuStats_FullMethodName, req, l.srv.GetGpuStats)
}

func (l *localFleet) ReportGpuStats(ctx context.Context, req *gpumonv1.ReportGpuStatsRequest) (*gpumonv1.ReportGpuStatsResponse, error) {
	return unary(ctx, l, gpumonv1.FleetService_ReportGpuStats_FullMethodName, req, l.srv.ReportGpuStats)
}

func (l *localFleet) KillProcesses(ctx context.Context, req *gpumonv1.KillProcessesRequest) (*gpumonv1.KillProcessesResponse, error) {
	return unary(ctx, l, gpumonv1.FleetService_KillProcesses_FullMethodName, req, l.srv.KillProcesses)
}

func (l *localFleet) ListMachines(ctx context.Context, req *gpumonv1.ListMachinesRequest) (*gpumonv1.ListMachinesResponse, error) {
	return unary(ctx, l, gpumonv1.FleetService_ListMachines_FullMethodName, req, l.srv.ListMachines)
}

func (l *localFleet) GetMachine(ctx context.Context, req *gpumonv1.GetMachineRequest) (*gpumonv1.GetMachineResponse, error) {
	return unary(ctx, l, gpumonv1.FleetService_GetMachine_FullMethodName, req, l.srv.GetMachine)
}

func (l *localFleet) ForgetMachine(ctx context.Context, req *gpumonv1.ForgetMachineRequest) (*gpumonv1.ForgetMachineResponse, error) {
	return unary(ctx, l, gpumonv1.FleetService_ForgetMachine_FullMethodName, req, l.srv.ForgetMachine)
}

func (l *localFleet) ListFreeGpus(ctx context.Context, req *gpumonv1.ListFreeGpusRequest) (*gpumonv1.ListFreeGpusResponse, error) {
	return unary(ctx, l, gpumonv1.FleetService_ListFreeGpus_FullMethodName, req, l.srv.ListFreeGpus)
}

func (l *localFleet) ListGpus(ctx context.Context, req *gpumonv1.ListGpusRequest) (*gpumonv1.ListGpusResponse, error) {
	return unary(ctx, l, gpumonv1.FleetService_ListGpus_FullMethodName, req, l.srv.ListGpus)
}

func (l *localFleet) QueryHistory(ctx context.Context, req *gpumonv1.QueryHistoryRequest) (*gpumonv1.QueryHistoryResponse, error) {
	return unary(ctx, l, gpumonv1.FleetService_QueryHistory_FullMethodName, req, l.srv.QueryHistory)
}

func (l *localFleet) GetUsage(ctx context.Context, req *gpumonv1.GetUsageRequest) (*gpumonv1.GetUsageResponse, error) {
	return unary(ctx, l, gpumonv1.FleetService_GetUsage_FullMethodName, req, l.srv.GetUsage)
}

func (l *localFleet) ListAlerts(ctx context.Context, req *gpumonv1.ListAlertsRequest) (*gpumonv1.ListAlertsResponse, error) {
	return unary(ctx, l, gpumonv1.FleetService_ListAlerts_FullMethodName, req, l.srv.ListAlerts)
}

func (l *localFleet) Watch(req *gpumonv1.WatchRequest, ss grpc.ServerStreamingServer[gpumonv1.WatchResponse]) error {
	info := &grpc.StreamServerInfo{FullMethod: gpumonv1.FleetService_Watch_FullMethodName, IsServerStream: true}
	ss = contextStream{ServerStreamingServer: ss, ctx: callContext(ss.Context(), info.FullMethod)}
	return l.stream(l.srv, ss, info, func(_ any, ss grpc.ServerStream) error {
		return l.srv.Watch(req, &grpc.GenericServerStream[gpumonv1.WatchRequest, gpumonv1.WatchResponse]{ServerStream: ss})
	})
}

// contextStream is a stream with another context.
type contextStream struct {
	grpc.ServerStreamingServer[gpumonv1.WatchResponse]
	ctx context.Context
}

func (c contextStream) Context() context.Context { return c.ctx }
