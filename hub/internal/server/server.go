package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/experimental"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"github.com/gpumon/gpumon/common/redact"
	"github.com/gpumon/gpumon/gateway"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/audit"
	"github.com/gpumon/gpumon/hub/internal/auth"
	"github.com/gpumon/gpumon/hub/internal/bufpool"
	"github.com/gpumon/gpumon/hub/internal/cluster"
	"github.com/gpumon/gpumon/hub/internal/fleet"
	"github.com/gpumon/gpumon/hub/internal/history"
	"github.com/gpumon/gpumon/hub/internal/service"
	"github.com/gpumon/gpumon/hub/internal/store"
)

// Limits of the gRPC server. A connection must finish its TLS and HTTP/2
// handshake within HandshakeTimeout (gRPC's default is 120 s, during which
// an idle TCP connection holds a connection slot); one with no call open
// for MaxConnectionIdle is sent away (a client reconnects when it needs to).
const (
	MaxRecvMsgSize       = 8 << 20
	MaxConcurrentStreams = 1 << 16
	HandshakeTimeout     = 10 * time.Second
	MaxConnectionIdle    = 5 * time.Minute
)

// Hub is a running hub.
type Hub struct {
	cfg      Config
	policy   *auth.Policy
	fleet    *fleet.Fleet
	stats    *service.Stats
	grpcLn   net.Listener
	httpLn   net.Listener
	tls      *tls.Config
	public   *grpc.Server
	fleetSvc *service.Fleet
	httpSrv  *http.Server
	health   *health.Server
	stopping chan struct{}
	audit    *audit.Log
	watchers *service.Watchers
	history  *history.Store
	remote   *history.RemoteWriter
	querier  service.HistoryQuerier
	alerts   *alerts
	cluster  *cluster.Cluster // nil on a single hub
	started  time.Time
	// TokenCreated is true when the agent token was generated on this start.
	TokenCreated bool
}

// New prepares a hub: data dir, tokens, registry and listeners. Nothing is
// served until Run.
func New(cfg Config) (*Hub, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	h := &Hub{cfg: cfg, fleet: fleet.New(cfg.Log), stats: &service.Stats{}, stopping: make(chan struct{}), started: time.Now(), audit: audit.New(cfg.Log, 0, 0)}
	h.cfg.Capacity = cfg.Capacity.WithDefaults()
	h.fleet.SetMaxMachines(h.cfg.Capacity.MaxMachines)
	h.watchers = &service.Watchers{Max: cfg.MaxWatchers, PerClient: cfg.MaxWatchersPerClient}
	agentToken := cfg.AgentToken
	if agentToken == "" {
		tok, created, err := auth.LoadOrCreateAgentToken(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		agentToken, h.TokenCreated = tok, created
	}
	h.policy = &auth.Policy{AgentToken: agentToken, APIToken: cfg.APIToken, AdminToken: cfg.AdminToken, LegacyOpen: cfg.LegacyOpen,
		Refused: h.authRefused}
	recs, err := store.Load(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	h.fleet.Restore(recs)
	if n := h.fleet.Len(); n > h.cfg.Capacity.MaxMachines {
		cfg.Log.Warn("the registry holds more machines than --max-machines: new machines are refused until enough are forgotten", "machines", n, "max", h.cfg.Capacity.MaxMachines)
	}
	if err := h.openHistory(); err != nil {
		return nil, err
	}
	if err := h.openAlerting(); err != nil {
		h.history.Close()
		return nil, err
	}
	if h.tls, err = cfg.tlsConfig(); err != nil {
		return nil, err
	}
	if h.grpcLn, err = net.Listen("tcp", cfg.GRPCAddr); err != nil {
		h.history.Close()
		return nil, fmt.Errorf("listen for gRPC on %s: %w", cfg.GRPCAddr, err)
	}
	if h.httpLn, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		h.grpcLn.Close()
		h.history.Close()
		return nil, fmt.Errorf("listen for HTTP on %s: %w", cfg.HTTPAddr, err)
	}
	h.joinCluster()
	return h, nil
}

// GRPCAddr and HTTPAddr are the bound addresses (useful with port 0).
func (h *Hub) GRPCAddr() string { return h.grpcLn.Addr().String() }

// HTTPAddr is the bound HTTP address.
func (h *Hub) HTTPAddr() string { return h.httpLn.Addr().String() }

// readBufferSize is each gRPC connection's read buffer (grpc-go's default
// is 32 KiB).
const readBufferSize = 8 << 10

// Flow-control windows of each gRPC stream and connection. Set, they are
// static: grpc-go's dynamic windows send a ping (and a window update) for
// the first message after every quiet spell to estimate the bandwidth,
// which for an agent's stream of small snapshots apart in time is every
// snapshot, and the agent answers each. A stream's window holds several
// full snapshots, so a replay after an outage flows.
const (
	streamWindow = 1 << 20
	connWindow   = 2 << 20
)

func (h *Hub) grpcServer(creds credentials.TransportCredentials) *grpc.Server {
	opts := []grpc.ServerOption{
		grpc.UnaryInterceptor(h.unaryInterceptor()),
		grpc.StreamInterceptor(h.streamInterceptor()),
		grpc.MaxRecvMsgSize(MaxRecvMsgSize),
		grpc.MaxConcurrentStreams(MaxConcurrentStreams),
		experimental.BufferPool(&bufpool.Pool{}),
		// Each agent's connection is idle between snapshots of a few
		// kilobytes (deltas); frames larger than the read buffer are read
		// around it, and write buffers go back to a pool between flushes.
		grpc.ReadBufferSize(readBufferSize),
		grpc.SharedWriteBuffer(true),
		grpc.InitialWindowSize(streamWindow),
		grpc.InitialConnWindowSize(connWindow),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 20 * time.Second, Timeout: 10 * time.Second, MaxConnectionIdle: MaxConnectionIdle}),
		grpc.ConnectionTimeout(HandshakeTimeout),
	}
	if creds != nil {
		opts = append(opts, grpc.Creds(creds))
	}
	s := grpc.NewServer(opts...)
	agents := &service.Agents{Fleet: h.fleet, Sink: h.history, Stats: h.stats, Log: h.cfg.Log, Interval: h.cfg.Interval, Version: h.cfg.Version,
		SnapshotRate: h.cfg.SnapshotRate, SnapshotBurst: h.cfg.SnapshotBurst, Stopping: h.stopping, Capacity: h.cfg.Capacity, Audit: h.audit}
	if h.cluster != nil {
		agents.Cluster = h.cluster
		if h.remote != nil {
			// The cluster's history is the shared store: acknowledge what
			// reached it.
			agents.Delivery = h.remote
		}
	}
	gpumonv1.RegisterAgentServiceServer(s, agents)
	gpumonv1.RegisterFleetServiceServer(s, h.fleetSvc)
	healthpb.RegisterHealthServer(s, h.health)
	reflection.Register(s)
	return s
}

// unaryInterceptor and streamInterceptor are what every call passes before
// the service, over gRPC and from the REST routes in this process alike.
func (h *Hub) unaryInterceptor() grpc.UnaryServerInterceptor { return h.policy.UnaryInterceptor }

func (h *Hub) streamInterceptor() grpc.StreamServerInterceptor { return h.policy.StreamInterceptor }

// Run serves until ctx is done, then shuts down gracefully: HTTP requests
// and streams are drained (bounded) and the registry is saved.
func (h *Hub) Run(ctx context.Context) error {
	h.health = health.NewServer()
	// Health by service name too, for checks that name the service they use
	// (grpc_health_probe -service, Kubernetes gRPC probes).
	for _, svc := range []string{gpumonv1.FleetService_ServiceDesc.ServiceName, gpumonv1.AgentService_ServiceDesc.ServiceName} {
		h.health.SetServingStatus(svc, healthpb.HealthCheckResponse_SERVING)
	}
	var creds credentials.TransportCredentials
	if h.tls != nil {
		creds = credentials.NewTLS(h.tls)
	}
	h.fleetSvc = &service.Fleet{Fleet: h.fleet, Sink: h.history, History: h.querier, Stats: h.stats, Log: h.cfg.Log, OnForget: h.forgotten,
		Stopping: h.stopping, Redact: redact.New(h.policy.AgentToken, h.policy.APIToken, h.policy.AdminToken), Alerts: h.alerts.engine,
		Capacity: h.cfg.Capacity, Audit: h.audit, Watchers: h.watchers, WatchMaxLag: h.cfg.WatchMaxLag}
	h.public = h.grpcServer(creds)
	handler, err := h.httpHandler(ctx)
	if err != nil {
		return err
	}
	h.httpSrv = gateway.NewHTTPServer(handler, h.tls)

	errc := make(chan error, 2)
	go func() {
		errc <- h.public.Serve(newShedListener(h.grpcLn, h.cfg.MaxConnections, h.cfg.MaxConnectionsPerAddress, &h.stats.ShedConns, &h.stats.ShedAddrConns))
	}()
	go func() {
		var err error
		if h.tls != nil {
			err = h.httpSrv.ServeTLS(newShedListener(h.httpLn, h.cfg.MaxConnections, 0, &h.stats.ShedConns, nil), "", "")
		} else {
			err = h.httpSrv.Serve(newShedListener(h.httpLn, h.cfg.MaxConnections, 0, &h.stats.ShedConns, nil))
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		errc <- err
	}()
	if h.cfg.PprofAddr != "" {
		go servePprof(h.cfg.PprofAddr, h.cfg.Log)
	}
	var wg sync.WaitGroup
	loopCtx, stopLoops := context.WithCancel(context.Background())
	wg.Add(4)
	go func() { defer wg.Done(); h.loops(loopCtx) }()
	go func() { defer wg.Done(); h.history.Follow(loopCtx, h.fleet) }()
	go func() { defer wg.Done(); h.history.FollowUp(loopCtx, h.fleet) }()
	go func() { defer wg.Done(); h.alerts.run(loopCtx) }()
	if h.remote != nil {
		wg.Add(1)
		go func() { defer wg.Done(); h.remote.Run(loopCtx) }()
	}
	if h.cluster != nil {
		wg.Add(1)
		go func() { defer wg.Done(); h.runCluster(loopCtx) }()
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	h.shutdown()
	stopLoops()
	wg.Wait()
	if err := h.save(); err != nil && runErr == nil {
		runErr = err
	}
	if err := h.history.Close(); err != nil && runErr == nil {
		runErr = fmt.Errorf("close history: %w", err)
	}
	return runErr
}

func (h *Hub) shutdown() {
	h.health.Shutdown()
	close(h.stopping)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = h.httpSrv.Shutdown(ctx)
	done := make(chan struct{})
	go func() { h.public.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		h.public.Stop()
	}
}

// loops runs the offline sweeper and the registry saver.
func (h *Hub) loops(ctx context.Context) {
	every := h.cfg.SaveEvery
	if every <= 0 {
		every = 15 * time.Second
	}
	sweep := time.NewTicker(time.Second)
	save := time.NewTicker(every)
	self := time.NewTicker(15 * time.Second)
	defer sweep.Stop()
	defer save.Stop()
	defer self.Stop()
	saved, members := h.fleet.Version(), h.fleet.Members()
	var lastSave time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-sweep.C:
			h.fleet.Sweep()
			// A new or forgotten machine is saved soon (at most every 5 s,
			// so a fleet connecting at once is not saved per machine); other
			// changes wait for the periodic save.
			if m := h.fleet.Members(); m != members && time.Since(lastSave) >= 5*time.Second {
				if err := h.save(); err != nil {
					h.cfg.Log.Error("save registry", "err", err)
					continue
				}
				saved, members, lastSave = h.fleet.Version(), m, time.Now()
			}
		case now := <-self.C:
			h.history.RecordHub(map[string]float64{
				"gpumon_hub_agent_streams":             float64(h.stats.Streams.Load()),
				"gpumon_hub_snapshots_total":           float64(h.stats.Snapshots.Load()),
				"gpumon_hub_duplicate_snapshots_total": float64(h.stats.Duplicates.Load()),
				"gpumon_hub_legacy_reports_total":      float64(h.stats.LegacyPost.Load()),
			}, now)
		case <-save.C:
			if v := h.fleet.Version(); v != saved {
				if err := h.save(); err != nil {
					h.cfg.Log.Error("save registry", "err", err)
					continue
				}
				saved, lastSave = v, time.Now()
			}
		}
	}
}

func (h *Hub) save() error {
	if err := store.Save(h.cfg.DataDir, h.fleet.Export()); err != nil {
		return fmt.Errorf("save registry in %s: %w", filepath.Clean(h.cfg.DataDir), err)
	}
	return nil
}

// authRefused records a call the auth policy refused.
func (h *Hub) authRefused(ctx context.Context, method string, err error) {
	st := status.Convert(err)
	h.audit.Call(ctx, slog.LevelWarn, "request refused", audit.Entry{Route: method, Result: st.Code().String(), Attrs: []any{"reason", st.Message()}})
}

// authorizeRead checks a plain HTTP read (PromQL API, /metrics) and records
// a refusal.
func (h *Hub) authorizeRead(r *http.Request) (int, string) {
	code, msg := h.policy.CheckReadHeader(r.Header.Get("Authorization"))
	return h.audited(r, code, msg)
}

// authorizeCollector checks the original collector's websocket (/ws), which
// takes what its report POST takes, and records a refusal.
func (h *Hub) authorizeCollector(r *http.Request) (int, string) {
	code, msg := h.policy.CheckHeader(gpumonv1.FleetService_ReportGpuStats_FullMethodName, r.Header.Get("Authorization"))
	return h.audited(r, code, msg)
}

// audited records a refused plain HTTP request and passes the answer on.
func (h *Hub) audited(r *http.Request, code int, msg string) (int, string) {
	if code != 0 {
		h.audit.Request(r, slog.LevelWarn, "request refused", audit.Entry{Token: h.policy.KindOfHeader(r.Header.Get("Authorization")),
			Result: strconv.Itoa(code), Attrs: []any{"reason", msg}})
	}
	return code, msg
}
