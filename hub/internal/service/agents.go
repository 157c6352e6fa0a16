// Package service implements the hub's gRPC services: AgentService (agent
// streams) and FleetService (reads, the documented routes, admin actions).
// It is the only place that maps errors to gRPC status codes.
package service

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/gpumon/gpumon/common/procdelta"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/audit"
	"github.com/gpumon/gpumon/hub/internal/fleet"
	"github.com/gpumon/gpumon/hub/internal/tokenbucket"
	"github.com/gpumon/gpumon/hub/internal/validate"
)

// HelloTimeout bounds the wait for an agent's first message.
const HelloTimeout = 10 * time.Second

// Sink receives every accepted sample, replayed ones included (history),
// with the agent's sequence number (0 for posted reports). A snapshot is
// acknowledged only once Record returned nil: it is then durable.
type Sink interface {
	Record(m *fleet.Machine, r *gpumonv1.Report, seq uint64) error
	// Err is nil while the store takes appends, else why it does not.
	Err() error
}

// Stats counts what the hub ingested.
type Stats struct {
	Streams    atomic.Int64
	Snapshots  atomic.Uint64
	Duplicates atomic.Uint64
	Rejected   atomic.Uint64
	// Cut counts snapshots kept with their process list cut to the limits.
	Cut        atomic.Uint64
	LegacyPost atomic.Uint64
	// Shed counts streams closed for exceeding the snapshot rate, and
	// connections refused over the connection limits (all, per address).
	Shed          atomic.Uint64
	ShedConns     atomic.Uint64
	ShedAddrConns atomic.Uint64
	// WatchBehind counts watchers disconnected for falling behind;
	// WatchRefused, watch streams refused over the caps.
	WatchBehind, WatchRefused atomic.Uint64
}

// Agents implements AgentService.
type Agents struct {
	gpumonv1.UnimplementedAgentServiceServer
	Fleet *fleet.Fleet
	Sink  Sink
	Stats *Stats
	Log   *slog.Logger
	// Interval, when set, overrides the agents' own sampling interval.
	Interval time.Duration
	// Version is the hub's version, sent in Welcome.
	Version string
	// Stopping is closed when the hub shuts down: streams end at once with
	// Unavailable, so agents reconnect (to this hub when it is back).
	Stopping <-chan struct{}
	// SnapshotRate and SnapshotBurst bound each machine's snapshots (per
	// second, and in one burst) over all its streams, so reconnecting does
	// not buy a new burst; defaults DefaultSnapshotRate/Burst. A stream over
	// the limit is closed with ResourceExhausted.
	SnapshotRate, SnapshotBurst float64
	// Capacity bounds new machines and report sizes.
	Capacity Capacity
	// Audit records refused streams and snapshots; may be nil.
	Audit *audit.Log
	// Cluster, when set, publishes the machines held here; acknowledgements
	// wait for it, and for Delivery when set.
	Cluster  Cluster
	Delivery Delivery

	budgets sync.Map // machine key → *tokenbucket.Bucket
}

// Connect serves one agent's stream.
func (a *Agents) Connect(stream gpumonv1.AgentService_ConnectServer) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	hello, err := a.awaitHello(ctx, stream)
	if err != nil {
		a.refused(ctx, "", err)
		return err
	}
	interval := hello.GetInterval().AsDuration()
	if a.Interval > 0 {
		interval = a.Interval
	}
	if interval <= 0 {
		interval = fleet.DefaultInterval
	}
	conn := fleet.NewAgentConn(slices.Contains(hello.GetCapabilities(), "kill"))
	defer conn.Close()
	m, w, err := a.attach(ctx, fleet.Hello{Hello: hello, Interval: interval, Conn: conn})
	if err != nil {
		return err
	}
	if a.Cluster != nil {
		a.Cluster.Attached(m, w.LastSeq)
		defer a.Cluster.Detached(m) // after Detach
	}
	defer a.Fleet.Detach(m, conn)
	a.Stats.Streams.Add(1)
	defer a.Stats.Streams.Add(-1)
	log := a.Log.With("host", hello.GetHostname(), "key", m.Key, "fingerprint", m.Fingerprint)
	if w.Conflict {
		log.Warn("stream claims a known machine without its secret; listed apart as a conflict", "remote", remoteAddr(ctx))
	}
	log.Info("agent connected", "epoch", hello.GetEpoch(), "last_seq", w.LastSeq, "secret_issued", w.Secret != "")
	defer log.Info("agent disconnected")

	welcome := &gpumonv1.Welcome{
		Interval: durationpb.New(interval), LastSeq: w.LastSeq, MachineKey: m.Key, HubVersion: a.Version,
		MachineSecret: w.Secret, IdentityConflict: w.Conflict, Capabilities: []string{procdelta.Capability, procdelta.ColumnsCapability},
		MaxProcesses: uint32(a.Capacity.WithDefaults().MaxProcesses),
	}
	// Process deltas are told against this stream only (SPEC §4.9): the
	// decoder starts empty, as the agent's encoder does.
	var deltas *procdelta.Decoder
	if slices.Contains(hello.GetCapabilities(), procdelta.Capability) {
		deltas = &procdelta.Decoder{Max: 2 * a.Capacity.WithDefaults().MaxProcesses, Clean: validate.Process, Figure: validate.Figure}
	}
	if err := stream.Send(&gpumonv1.ConnectResponse{Msg: &gpumonv1.ConnectResponse_Welcome{Welcome: welcome}}); err != nil {
		return err
	}
	out := newOutbox()
	sendErr := make(chan error, 1)
	go func() { sendErr <- out.run(ctx, stream, conn) }()
	acks, commitErr := a.acker(ctx, m, w.LastSeq, out)
	recvDone := make(chan error, 1)
	go func() { recvDone <- a.receive(ctx, stream, m, conn, acks, deltas) }()
	var recvErr error
	select {
	case recvErr = <-recvDone:
	case recvErr = <-commitErr:
	case <-conn.Done():
		recvErr = status.Errorf(codes.Unavailable, "machine %s: its stream moved to another hub", m.Key)
	case <-a.Stopping:
		cancel()
		return status.Error(codes.Unavailable, "hub is shutting down")
	}
	cancel()
	// The sender stops at once unless it is blocked in Send on an agent that
	// stopped reading; returning ends the stream and unblocks it.
	select {
	case err := <-sendErr:
		if recvErr == nil {
			recvErr = err
		}
	case <-time.After(2 * time.Second):
	}
	return recvErr
}

// attach adds the agent's machine to the fleet, or refuses it: its inventory
// over the byte limit, or a new machine in a full fleet.
func (a *Agents) attach(ctx context.Context, h fleet.Hello) (*fleet.Machine, fleet.Welcome, error) {
	if n := proto.Size(h.GetInventory()); n > a.Capacity.WithDefaults().MaxBytes {
		err := capacityError("inventory of %s is %d bytes, over the limit of %d (--max-report-bytes)", h.GetHostname(), n, a.Capacity.WithDefaults().MaxBytes)
		a.refused(ctx, h.GetHostname(), err)
		return nil, fleet.Welcome{}, err
	}
	m, w := a.Fleet.Attach(h)
	if m == nil {
		err := a.Capacity.full(h.GetHostname())
		a.refused(ctx, h.GetHostname(), err)
		return nil, fleet.Welcome{}, err
	}
	return m, w, nil
}

// refused records a stream or snapshot the hub refused in the audit trail
// (not streams that merely ended).
func (a *Agents) refused(ctx context.Context, host string, err error) {
	st, ok := status.FromError(err)
	if !ok || st.Code() == codes.Canceled {
		return
	}
	a.Audit.Call(ctx, slog.LevelWarn, "report refused", audit.Entry{Result: st.Code().String(), Attrs: []any{"host", host, "reason", st.Message()}})
}

func (a *Agents) awaitHello(ctx context.Context, stream gpumonv1.AgentService_ConnectServer) (*gpumonv1.Hello, error) {
	type result struct {
		msg *gpumonv1.ConnectRequest
		err error
	}
	ch := make(chan result, 1)
	go func() {
		msg, err := stream.Recv()
		ch <- result{msg, err}
	}()
	timer := time.NewTimer(HelloTimeout)
	defer timer.Stop()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, r.err
		}
		hello := r.msg.GetHello()
		if hello == nil {
			return nil, status.Error(codes.InvalidArgument, "the first message on the stream must be hello")
		}
		if err := validate.Hostname(hello.GetHostname()); err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		if len(hello.GetMachineId()) > validate.MaxMachineIDLen {
			return nil, status.Errorf(codes.InvalidArgument, "machine id longer than %d bytes", validate.MaxMachineIDLen)
		}
		if sec := hello.GetMachineSecret(); len(sec) > fleet.MaxSecretLen || strings.ContainsFunc(sec, notPrintable) {
			return nil, status.Errorf(codes.InvalidArgument, "machine secret: at most %d printable ASCII characters", fleet.MaxSecretLen)
		}
		validate.Inventory(hello.GetInventory())
		return hello, nil
	case <-timer.C:
		return nil, status.Errorf(codes.DeadlineExceeded, "no hello within %s", HelloTimeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// budget is the machine's snapshot budget, shared by all its streams.
func (a *Agents) budget(key string) (b *tokenbucket.Bucket, rate, burst float64) {
	rate, burst = a.SnapshotRate, a.SnapshotBurst
	if rate <= 0 {
		rate = DefaultSnapshotRate
	}
	if burst <= 0 {
		burst = DefaultSnapshotBurst
	}
	v, _ := a.budgets.LoadOrStore(key, tokenbucket.New(rate, burst, time.Now()))
	return v.(*tokenbucket.Bucket), rate, burst
}

// acker returns what acknowledges a recorded snapshot: the outbox at once
// on a single hub; in a cluster, a committer that acknowledges once the
// cluster holds it (its error ends the stream).
func (a *Agents) acker(ctx context.Context, m *fleet.Machine, lastSeq uint64, out *outbox) (func(uint64), <-chan error) {
	if a.Cluster == nil {
		return out.ack, nil
	}
	cm := newCommitter(lastSeq)
	errc := make(chan error, 1)
	go func() {
		if err := a.commit(ctx, m, cm, out); err != nil {
			errc <- err
		}
	}()
	return func(seq uint64) {
		var mark uint64
		if a.Delivery != nil {
			mark = a.Delivery.Queued()
		}
		cm.offer(seq, mark)
	}, errc
}

func (a *Agents) receive(ctx context.Context, stream gpumonv1.AgentService_ConnectServer, m *fleet.Machine, conn *fleet.AgentConn, ack func(uint64), deltas *procdelta.Decoder) error {
	limit, rate, burst := a.budget(m.Key)
	unrecorded := false
	for {
		msg, err := stream.Recv()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		switch x := msg.GetMsg().(type) {
		case *gpumonv1.ConnectRequest_Snapshot:
			if !limit.Take(time.Now()) {
				a.Stats.Shed.Add(1)
				return status.Errorf(codes.ResourceExhausted, "more than %g snapshots per second (burst %g): slow down", rate, burst)
			}
			seq, err := a.ingest(m, x.Snapshot, deltas, &unrecorded)
			if err != nil {
				a.refused(ctx, m.Key, err)
				return err
			}
			if seq > 0 {
				ack(seq)
			}
		case *gpumonv1.ConnectRequest_CommandResult:
			conn.Resolve(x.CommandResult)
		case *gpumonv1.ConnectRequest_Hello:
			return status.Error(codes.InvalidArgument, "hello sent twice on one stream")
		default:
			return status.Error(codes.InvalidArgument, "empty or unknown message")
		}
	}
}

// ingest takes one snapshot and returns the sequence number to acknowledge
// (0: none yet), or an error that ends the stream. A snapshot is
// acknowledged only once it is in history. While the store fails, snapshots
// still become the machine's current state but are not acknowledged (the
// agent keeps them); once it takes appends again the stream is ended, so the
// agent reconnects and replays from the last acknowledged one, in order.
func (a *Agents) ingest(m *fleet.Machine, snap *gpumonv1.Snapshot, deltas *procdelta.Decoder, unrecorded *bool) (uint64, error) {
	check := validate.Report
	if snap.GetProcesses() != nil && deltas != nil && deltas.Clean != nil {
		check = validate.RebuiltReport // the decoder cleaned what it rebuilt from
	}
	if err := rebuild(snap, deltas); err != nil {
		a.Stats.Rejected.Add(1)
		return 0, err
	}
	r := snap.GetReport()
	if r == nil || snap.GetSeq() == 0 {
		a.Stats.Rejected.Add(1)
		return 0, status.Error(codes.InvalidArgument, "snapshot needs a sequence number above 0 and a report")
	}
	r.Hostname = m.Hostname
	if err := check(r); err != nil {
		a.Stats.Rejected.Add(1)
		return 0, status.Error(codes.InvalidArgument, err.Error())
	}
	if st := m.State(); st != nil {
		fleet.FillStatic(r, st.Inventory) // sized as it is stored and served
	}
	total := len(r.GetSystemInfo().GetProcesses())
	if cut, err := a.Capacity.fit(r); err != nil {
		a.Stats.Rejected.Add(1)
		return 0, err
	} else if cut > 0 {
		a.Stats.Cut.Add(1)
		a.cutWarning(m, total, cut)
	}
	if *unrecorded {
		if a.Sink.Err() == nil {
			return 0, status.Error(codes.Unavailable, "history store recovered: reconnect to replay the snapshots it could not take")
		}
		a.Fleet.Ingest(m, snap.GetSeq(), r)
		return 0, nil
	}
	if a.Fleet.Ingest(m, snap.GetSeq(), r) == fleet.Duplicate {
		a.Stats.Duplicates.Add(1)
		return snap.GetSeq(), nil
	}
	a.Stats.Snapshots.Add(1)
	if a.Sink != nil {
		if err := a.Sink.Record(m, r, snap.GetSeq()); err != nil {
			*unrecorded = true
			return 0, nil
		}
	}
	a.Fleet.Acked(m, snap.GetSeq())
	return snap.GetSeq(), nil
}

// cutWarning logs, at most every 10 minutes per machine, that a machine's
// process list is cut to the hub's limits.
func (a *Agents) cutWarning(m *fleet.Machine, total, cut int) {
	if !m.CutWarningDue(time.Now()) {
		return
	}
	c := a.Capacity.WithDefaults()
	a.Log.Warn("machine runs more processes than a report takes; its list is cut to those using a GPU and the busiest others",
		"host", m.Key, "processes", total, "listed", total-cut, "max_report_processes", c.MaxProcesses, "max_report_bytes", c.MaxBytes)
}

// rebuild puts the processes of a delta (Snapshot.processes) back into its
// report. Every snapshot of a stream that takes deltas passes here, in
// order, duplicates and replays included, so the decoder follows what the
// agent's encoder sent.
func rebuild(snap *gpumonv1.Snapshot, deltas *procdelta.Decoder) error {
	if snap.GetProcesses() == nil {
		return nil
	}
	if deltas == nil {
		return status.Error(codes.InvalidArgument, "process delta on a stream whose hello did not ask for deltas")
	}
	err := deltas.Decode(snap)
	switch {
	case errors.Is(err, procdelta.ErrUnknownPID):
		return status.Errorf(codes.FailedPrecondition, "%v: reconnect, and the new stream starts from full static facts", err)
	case err != nil:
		return status.Error(codes.InvalidArgument, err.Error())
	}
	return nil
}

func notPrintable(r rune) bool { return r < 0x21 || r > 0x7e }

// remoteAddr is the peer address of a call, for logs.
func remoteAddr(ctx context.Context) string {
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		return p.Addr.String()
	}
	return ""
}
