package stream

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/gpumon/gpumon/common/procdelta"
	"github.com/gpumon/gpumon/common/proclimit"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// errInventoryChanged ends a stream so that the next hello is up to date.
var errInventoryChanged = errors.New("static inventory changed")

// WelcomeTimeout bounds the wait for the hub's answer to hello.
const WelcomeTimeout = 15 * time.Second

// connectLoop keeps a stream up. With several hubs it starts at a random
// one (a fleet given the same list spreads over them) and moves to the next
// after every failed or ended stream: the hub is either gone or shedding.
func (c *Client) connectLoop(ctx context.Context, hubs []hubClient) {
	attempt := 0
	for next := rand.IntN(len(hubs)); ctx.Err() == nil; next = (next + 1) % len(hubs) {
		hub := hubs[next]
		welcomed, err := c.session(ctx, hub)
		c.connected.Store(false)
		if ctx.Err() != nil {
			return
		}
		if welcomed {
			attempt = 0
		}
		if errors.Is(err, errInventoryChanged) {
			next-- // the same hub again, at once
			continue
		}
		wait := backoff(c.cfg.MinBackoff, c.cfg.MaxBackoff, attempt)
		attempt++
		switch status.Code(err) {
		case codes.Unauthenticated, codes.PermissionDenied:
			c.log.Error("hub refused this agent; check --token", "hub", hub.addr, "err", status.Convert(err).Message(), "retry_in", wait.Round(time.Millisecond))
		default:
			pending, _ := c.buf.stats()
			c.log.Warn("stream to hub ended", "hub", hub.addr, "err", err, "retry_in", wait.Round(time.Millisecond), "buffered", pending)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// backoff is min·2^attempt capped at max, with jitter in [50 %, 100 %].
func backoff(minD, maxD time.Duration, attempt int) time.Duration {
	d := minD
	for i := 0; i < attempt && d < maxD; i++ {
		d *= 2
	}
	d = min(d, maxD)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// session runs one stream until it fails. welcomed says whether the hub
// accepted the hello.
func (c *Client) session(ctx context.Context, client hubClient) (welcomed bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if c.cfg.Token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+c.cfg.Token)
	}
	st, err := client.Connect(ctx)
	if err != nil {
		return false, err
	}
	hello := &gpumonv1.Hello{
		Hostname: c.cfg.Hostname, MachineId: c.cfg.MachineID, AgentVersion: c.cfg.Version,
		Epoch: c.epoch, Inventory: c.currentInventory(), Capabilities: c.capabilities(),
		Simulated: c.cfg.Simulated, Interval: durationpb.New(time.Duration(c.interval.Load())),
		MachineSecret: c.machineSecret(), Buffer: durationpb.New(c.bufferWindow()),
	}
	if err := st.Send(&gpumonv1.ConnectRequest{Msg: &gpumonv1.ConnectRequest_Hello{Hello: hello}}); err != nil {
		return false, err
	}
	welcome, err := awaitWelcome(ctx, st)
	if err != nil {
		return false, err
	}
	if d := welcome.GetInterval().AsDuration(); d >= 100*time.Millisecond {
		c.setInterval(d)
	}
	c.welcomed(welcome)
	c.buf.ack(welcome.GetLastSeq())
	key := welcome.GetMachineKey()
	c.key.Store(&key)
	c.connected.Store(true)
	c.log.Info("connected to hub", "hub", client.addr, "key", welcome.GetMachineKey(), "hub_last_seq", welcome.GetLastSeq())

	// Deltas are told against this stream only: a new stream (to this hub
	// or another, restarted or not) starts from full static facts.
	var enc *procdelta.Encoder
	if !c.cfg.FullSnapshots && slices.Contains(welcome.GetCapabilities(), procdelta.Capability) {
		enc = &procdelta.Encoder{Columns: slices.Contains(welcome.GetCapabilities(), procdelta.ColumnsCapability)}
	}
	results := make(chan *gpumonv1.CommandResult, 16)
	errc := make(chan error, 2)
	go func() { errc <- c.send(ctx, st, welcome.GetLastSeq(), enc, int(welcome.GetMaxProcesses()), results) }()
	go func() { errc <- c.receive(ctx, st, results) }()
	err = <-errc
	return true, err
}

func awaitWelcome(ctx context.Context, st gpumonv1.AgentService_ConnectClient) (*gpumonv1.Welcome, error) {
	type result struct {
		msg *gpumonv1.ConnectResponse
		err error
	}
	ch := make(chan result, 1)
	go func() {
		m, err := st.Recv()
		ch <- result{m, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, r.err
		}
		if w := r.msg.GetWelcome(); w != nil {
			return w, nil
		}
		return nil, fmt.Errorf("hub answered hello with %T, not welcome", r.msg.GetMsg())
	case <-time.After(WelcomeTimeout):
		return nil, fmt.Errorf("no welcome from the hub within %s", WelcomeTimeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// send writes buffered snapshots in order, then new ones as they come, and
// command results; with enc, snapshots go as deltas. It is the only
// goroutine that sends on the stream.
//
// A machine running more processes than the hub takes (maxProcs, from its
// welcome) sends those using a GPU and the busiest others, and says so in
// the report: the hub would cut the list anyway, and its process deltas
// keep only so many.
func (c *Client) send(ctx context.Context, st gpumonv1.AgentService_ConnectClient, sent uint64, enc *procdelta.Encoder, maxProcs int, results <-chan *gpumonv1.CommandResult) error {
	warned := false
	for {
		if buffered, ok := c.buf.after(sent); ok {
			s, total, cut := prepare(buffered, enc, maxProcs)
			if cut > 0 && !warned {
				warned = true
				c.log.Warn("this machine runs more processes than the hub takes in a report: sending those using a GPU and the busiest others",
					"processes", total, "hub_max_processes", maxProcs)
			}
			if err := st.Send(&gpumonv1.ConnectRequest{Msg: &gpumonv1.ConnectRequest_Snapshot{Snapshot: s}}); err != nil {
				// A snapshot protobuf cannot encode (a string that is not
				// UTF-8) would end every stream that replays it.
				if _, merr := proto.Marshal(s); merr != nil {
					c.buf.drop(buffered.GetSeq())
					c.log.Error("a snapshot could not be encoded; dropped", "seq", buffered.GetSeq(), "err", merr)
				}
				return err
			}
			sent = s.GetSeq()
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.invChanged:
			return errInventoryChanged
		case <-c.buf.notify:
		case r := <-results:
			if err := st.Send(&gpumonv1.ConnectRequest{Msg: &gpumonv1.ConnectRequest_CommandResult{CommandResult: r}}); err != nil {
				return err
			}
		}
	}
}

// prepare is what a stream sends for the buffered snapshot: cut to the
// hub's maxProcs, and told as a delta with enc. The buffer keeps its
// snapshot whole, for a replay to a stream that starts over: this cuts and
// encodes a copy. total is how many processes the report lists, cut how
// many were left out.
func prepare(buffered *gpumonv1.Snapshot, enc *procdelta.Encoder, maxProcs int) (s *gpumonv1.Snapshot, total, cut int) {
	s = forSending(buffered)
	total = len(s.GetReport().GetSystemInfo().GetProcesses())
	cut, _ = proclimit.Limit(s.GetReport(), maxProcs, 0)
	if enc != nil {
		enc.Encode(s)
	}
	return s, total, cut
}

func (c *Client) receive(ctx context.Context, st gpumonv1.AgentService_ConnectClient, results chan<- *gpumonv1.CommandResult) error {
	for {
		msg, err := st.Recv()
		if err != nil {
			return err
		}
		switch x := msg.GetMsg().(type) {
		case *gpumonv1.ConnectResponse_Ack:
			c.buf.ack(x.Ack.GetSeq())
		case *gpumonv1.ConnectResponse_Command:
			res := c.execute(x.Command)
			select {
			case results <- res:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}

// forSending is a copy of s that the send path may cut to the hub's limits
// (proclimit.Limit) and tell as a delta (procdelta.Encoder.Encode): the
// snapshot, its report, system info, GPUs and collector statuses are new
// messages, while everything those steps leave alone (processes included)
// is shared with s, which stays whole. The copies are written out field by
// field (protobuf's reflection cost more than the rest of a load-generator
// snapshot's copy); TestForSendingCopiesEveryField fails on a field added
// to these messages and not here.
func forSending(s *gpumonv1.Snapshot) *gpumonv1.Snapshot {
	out := &gpumonv1.Snapshot{Seq: s.Seq, Report: s.Report, Processes: s.Processes}
	r := s.GetReport()
	if r == nil {
		return out
	}
	rc := &gpumonv1.Report{
		Hostname: r.Hostname, Timestamp: r.Timestamp, GpuData: r.GpuData, SystemInfo: r.SystemInfo,
		IsOnline: r.IsOnline, MachineId: r.MachineId, AgentVersion: r.AgentVersion, Simulated: r.Simulated,
		DriverVersion: r.DriverVersion, CudaVersion: r.CudaVersion, Collectors: r.Collectors, IntervalSeconds: r.IntervalSeconds,
		MachineFingerprint: r.MachineFingerprint, ClockOffsetSeconds: r.ClockOffsetSeconds, Hub: r.Hub, Reconnecting: r.Reconnecting,
	}
	if si := r.GetSystemInfo(); si != nil {
		rc.SystemInfo = &gpumonv1.SystemInfo{
			CpuPercent: si.CpuPercent, MemoryTotal: si.MemoryTotal, MemoryUsed: si.MemoryUsed, MemoryPercent: si.MemoryPercent,
			DiskTotal: si.DiskTotal, DiskUsed: si.DiskUsed, DiskPercent: si.DiskPercent, IpAddress: si.IpAddress,
			ScreenSessions: si.ScreenSessions, DockerContainers: si.DockerContainers, Processes: si.Processes, Load: si.Load,
			SwapTotal: si.SwapTotal, SwapUsed: si.SwapUsed, Disks: si.Disks, UptimeSeconds: si.UptimeSeconds,
			Os: si.Os, Kernel: si.Kernel, CpuModel: si.CpuModel, CpuCores: si.CpuCores,
			TmuxSessions: si.TmuxSessions, MemoryAvailable: si.MemoryAvailable,
		}
	}
	if r.GpuData != nil {
		rc.GpuData = make([]*gpumonv1.Gpu, len(r.GpuData))
		for i, g := range r.GpuData {
			rc.GpuData[i] = copyGPU(g)
		}
	}
	if r.Collectors != nil {
		rc.Collectors = make([]*gpumonv1.CollectorStatus, len(r.Collectors))
		for i, c := range r.Collectors {
			if c != nil { // a nil entry stays nil: it is sent as an empty message
				rc.Collectors[i] = &gpumonv1.CollectorStatus{Name: c.Name, State: c.State, Message: c.Message, DurationSeconds: c.DurationSeconds}
			}
		}
	}
	out.Report = rc
	return out
}

// copyGPU is a new message with g's fields (its lists and messages shared).
func copyGPU(g *gpumonv1.Gpu) *gpumonv1.Gpu {
	if g == nil {
		return nil
	}
	return &gpumonv1.Gpu{
		Id: g.Id, Name: g.Name, Temperature: g.Temperature, MemoryUsed: g.MemoryUsed,
		MemoryTotal: g.MemoryTotal, Utilization: g.Utilization, Processes: g.Processes, Uuid: g.Uuid,
		MemoryUtilization: g.MemoryUtilization, PowerDraw: g.PowerDraw, PowerLimit: g.PowerLimit, FanSpeed: g.FanSpeed,
		SmClock: g.SmClock, MemoryClock: g.MemoryClock, PerformanceState: g.PerformanceState, ThrottleReasons: g.ThrottleReasons,
		EccErrorsCorrected: g.EccErrorsCorrected, EccErrorsUncorrected: g.EccErrorsUncorrected, EncoderUtilization: g.EncoderUtilization,
		DecoderUtilization: g.DecoderUtilization, PcieGeneration: g.PcieGeneration, PcieWidth: g.PcieWidth,
		PersistenceMode: g.PersistenceMode, MigMode: g.MigMode, MemoryFree: g.MemoryFree, Error: g.Error,
		PciBusId: g.PciBusId, MemoryTemperature: g.MemoryTemperature, EnergyConsumption: g.EnergyConsumption,
		PcieTxThroughput: g.PcieTxThroughput, PcieRxThroughput: g.PcieRxThroughput, PcieReplayCounter: g.PcieReplayCounter,
		NvlinkBandwidthTotal: g.NvlinkBandwidthTotal, RemappedRows: g.RemappedRows, Activity: g.Activity, XidErrors: g.XidErrors,
		LastXid: g.LastXid, LastXidTime: g.LastXidTime, IdleSince: g.IdleSince, IdleHeld: g.IdleHeld,
	}
}
