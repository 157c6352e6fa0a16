package service

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// fakeStream is the hub's side of one agent stream, driven by the test as
// the agent: what the test puts in in, Connect receives; what Connect
// sends, the test reads from out. Closing in is the agent's half-close.
type fakeStream struct {
	grpc.ServerStream
	ctx context.Context
	in  chan *gpumonv1.ConnectRequest
	out chan *gpumonv1.ConnectResponse
}

func (s *fakeStream) Context() context.Context { return s.ctx }

func (s *fakeStream) Recv() (*gpumonv1.ConnectRequest, error) {
	select {
	case m, ok := <-s.in:
		if !ok {
			return nil, io.EOF
		}
		return m, nil
	case <-s.ctx.Done():
		return nil, s.ctx.Err()
	}
}

func (s *fakeStream) Send(m *gpumonv1.ConnectResponse) error {
	select {
	case s.out <- m:
		return nil
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
}

// agentSide is a running Connect and the test's end of its stream.
type agentSide struct {
	t      *testing.T
	s      *fakeStream
	cancel context.CancelFunc
	done   chan error
}

// connect runs a.Connect on a fake stream until the test ends.
func connect(t *testing.T, a *Agents) *agentSide {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	s := &fakeStream{ctx: ctx, in: make(chan *gpumonv1.ConnectRequest), out: make(chan *gpumonv1.ConnectResponse, 64)}
	as := &agentSide{t: t, s: s, cancel: cancel, done: make(chan error, 1)}
	go func() { as.done <- a.Connect(s) }()
	t.Cleanup(func() { cancel(); <-as.done })
	return as
}

// send delivers one message to the hub, failing if Connect has ended.
func (as *agentSide) send(msg *gpumonv1.ConnectRequest) {
	as.t.Helper()
	select {
	case as.s.in <- msg:
	case err := <-as.done:
		as.done <- err
		as.t.Fatalf("the stream ended (%v) before %v was taken", err, msg)
	case <-time.After(time.Minute):
		as.t.Fatalf("the hub did not take %v", msg)
	}
}

func (as *agentSide) hello(h *gpumonv1.Hello) {
	as.t.Helper()
	as.send(&gpumonv1.ConnectRequest{Msg: &gpumonv1.ConnectRequest_Hello{Hello: h}})
}

func (as *agentSide) snapshot(seq uint64, r *gpumonv1.Report) {
	as.t.Helper()
	as.send(&gpumonv1.ConnectRequest{Msg: &gpumonv1.ConnectRequest_Snapshot{Snapshot: &gpumonv1.Snapshot{Seq: seq, Report: r}}})
}

// recv is the hub's next message.
func (as *agentSide) recv() *gpumonv1.ConnectResponse {
	as.t.Helper()
	select {
	case m := <-as.s.out:
		return m
	case err := <-as.done:
		as.done <- err
		as.t.Fatalf("the stream ended (%v) while a message was expected", err)
	case <-time.After(time.Minute):
		as.t.Fatal("no message from the hub")
	}
	return nil
}

func (as *agentSide) welcome() *gpumonv1.Welcome {
	as.t.Helper()
	w := as.recv().GetWelcome()
	if w == nil {
		as.t.Fatal("the hub's first message is not a welcome")
	}
	return w
}

// ackOf waits for the ack of seq (acks are cumulative: a later one covers it).
func (as *agentSide) ackOf(seq uint64) {
	as.t.Helper()
	for {
		m := as.recv()
		if a := m.GetAck(); a != nil && a.GetSeq() >= seq {
			if a.GetSeq() > seq {
				as.t.Fatalf("ack %d before %d was sent", a.GetSeq(), seq)
			}
			return
		}
	}
}

// end waits for Connect to return and gives its error.
func (as *agentSide) end() error {
	as.t.Helper()
	select {
	case err := <-as.done:
		as.done <- err
		return err
	case <-time.After(time.Minute):
		as.t.Fatal("the stream did not end")
	}
	return nil
}

// recordingSink records what the hub stored, by machine key.
type recordingSink struct {
	mu     sync.Mutex
	stored map[string][]uint64
}

func (s *recordingSink) Record(m *fleet.Machine, _ *gpumonv1.Report, seq uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stored == nil {
		s.stored = map[string][]uint64{}
	}
	s.stored[m.Key] = append(s.stored[m.Key], seq)
	return nil
}

func (s *recordingSink) Err() error { return nil }

func (s *recordingSink) seqs(key string) []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint64(nil), s.stored[key]...)
}

func newAgents(sink Sink) *Agents {
	return &Agents{Fleet: fleet.New(nil), Sink: sink, Stats: &Stats{}, Log: slog.New(slog.DiscardHandler)}
}

func helloOf(host, id string, epoch uint64) *gpumonv1.Hello {
	return &gpumonv1.Hello{Hostname: host, MachineId: id, Epoch: epoch, Capabilities: []string{fleet.SecretCapability}}
}

func reportAt(cpu float64) *gpumonv1.Report {
	return &gpumonv1.Report{SystemInfo: &gpumonv1.SystemInfo{CpuPercent: cpu}}
}

func codeOf(err error) codes.Code { return status.Code(err) }
