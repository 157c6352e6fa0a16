package service

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// TestHelloRefused: a stream whose first message is not a sane hello ends
// with InvalidArgument and no welcome, and leaves no machine behind.
func TestHelloRefused(t *testing.T) {
	hello := func(h *gpumonv1.Hello) *gpumonv1.ConnectRequest {
		return &gpumonv1.ConnectRequest{Msg: &gpumonv1.ConnectRequest_Hello{Hello: h}}
	}
	tests := []struct {
		name  string
		first *gpumonv1.ConnectRequest
	}{
		{"a snapshot first", &gpumonv1.ConnectRequest{Msg: &gpumonv1.ConnectRequest_Snapshot{Snapshot: &gpumonv1.Snapshot{Seq: 1, Report: reportAt(1)}}}},
		{"a command result first", &gpumonv1.ConnectRequest{Msg: &gpumonv1.ConnectRequest_CommandResult{CommandResult: &gpumonv1.CommandResult{RequestId: "1"}}}},
		{"an empty message", &gpumonv1.ConnectRequest{}},
		{"no hostname", hello(helloOf("", "m", 1))},
		{"a hostname with a space", hello(helloOf("gpu 1", "m", 1))},
		{"a hostname with a slash", hello(helloOf("../etc", "m", 1))},
		{"a hostname starting with a dash", hello(helloOf("-rf", "m", 1))},
		{"a hostname of 254 characters", hello(helloOf(strings.Repeat("a", 254), "m", 1))},
		{"a machine id of 129 bytes", hello(helloOf("h", strings.Repeat("f", 129), 1))},
		{"a secret of 129 characters", hello(&gpumonv1.Hello{Hostname: "h", MachineId: "m", MachineSecret: strings.Repeat("s", 129)})},
		{"a secret with a space", hello(&gpumonv1.Hello{Hostname: "h", MachineId: "m", MachineSecret: "two words"})},
		{"a secret with a control character", hello(&gpumonv1.Hello{Hostname: "h", MachineId: "m", MachineSecret: "s\x00"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAgents(&recordingSink{})
			as := connect(t, a)
			as.send(tt.first)
			if err := as.end(); codeOf(err) != codes.InvalidArgument {
				t.Errorf("stream ended with %v, want InvalidArgument", err)
			}
			if len(as.s.out) != 0 {
				t.Errorf("the hub sent %v to a refused stream", <-as.s.out)
			}
			if n := len(a.Fleet.List()); n != 0 || a.Stats.Streams.Load() != 0 {
				t.Errorf("a refused stream left %d machines and %d streams", n, a.Stats.Streams.Load())
			}
		})
	}
}

// TestHelloClosedBeforeHello: an agent that hangs up before its hello
// leaves nothing behind.
func TestHelloClosedBeforeHello(t *testing.T) {
	a := newAgents(&recordingSink{})
	as := connect(t, a)
	close(as.s.in)
	if err := as.end(); err == nil {
		t.Error("Connect returned nil for a stream closed before its hello")
	}
	if n := len(a.Fleet.List()); n != 0 {
		t.Errorf("%d machines after a stream without hello", n)
	}
}

// TestWelcome: the welcome names the machine's key, issues a secret to an
// agent that keeps one, and sets the interval: the hub's override, else the
// agent's, else the default.
func TestWelcome(t *testing.T) {
	tests := []struct {
		name        string
		hubInterval time.Duration
		agent       time.Duration
		want        time.Duration
	}{
		{"the agent's interval", 0, 5 * time.Second, 5 * time.Second},
		{"the hub's --interval wins", time.Second, 5 * time.Second, time.Second},
		{"the default when neither says", 0, 0, fleet.DefaultInterval},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAgents(&recordingSink{})
			a.Interval, a.Version = tt.hubInterval, "1.2.3"
			as := connect(t, a)
			h := helloOf("gpu-01", "id-1", 7)
			if tt.agent > 0 {
				h.Interval = durationpb.New(tt.agent)
			}
			as.hello(h)
			w := as.welcome()
			if got := w.GetInterval().AsDuration(); got != tt.want {
				t.Errorf("interval %v, want %v", got, tt.want)
			}
			if w.GetMachineKey() != "gpu-01" || w.GetLastSeq() != 0 || w.GetHubVersion() != "1.2.3" || w.GetIdentityConflict() {
				t.Errorf("welcome %v: want key gpu-01, last seq 0, version 1.2.3, no conflict", w)
			}
			if len(w.GetMachineSecret()) < 16 {
				t.Errorf("secret %q issued to an agent that keeps one: want a long random one", w.GetMachineSecret())
			}
		})
	}
}

// TestAnotherMachinesIdentity: a stream that claims a known machine without
// its secret is welcomed apart, as a conflict: it never becomes the machine,
// its snapshots never reach the machine's history, and the real agent, with
// its secret, still is the machine.
func TestAnotherMachinesIdentity(t *testing.T) {
	sink := &recordingSink{}
	a := newAgents(sink)
	real := connect(t, a)
	real.hello(helloOf("gpu-01", "id-1", 1))
	secret := real.welcome().GetMachineSecret()
	real.snapshot(1, reportAt(10))
	real.ackOf(1)

	for _, claim := range []struct{ name, secret string }{{"no secret", ""}, {"a wrong secret", "not-the-secret-0000"}} {
		t.Run(claim.name, func(t *testing.T) {
			imp := connect(t, a)
			h := helloOf("gpu-01", "id-1", 1<<62)
			h.MachineSecret = claim.secret
			imp.hello(h)
			w := imp.welcome()
			if !w.GetIdentityConflict() || w.GetMachineKey() == "gpu-01" || w.GetMachineSecret() == secret {
				t.Fatalf("impostor welcomed as %v", w)
			}
			imp.snapshot(1<<40, reportAt(99))
			imp.ackOf(1 << 40)
			if got := sink.seqs("gpu-01"); !slices.Equal(got, []uint64{1}) {
				t.Errorf("gpu-01's history %v, want only the real agent's [1]", got)
			}
			m, _ := a.Fleet.Get("gpu-01")
			if cpu := m.State().Report.GetSystemInfo().GetCpuPercent(); cpu != 10 {
				t.Errorf("gpu-01 shows cpu %v, want the real agent's 10", cpu)
			}
		})
	}
	again := connect(t, a)
	h := helloOf("gpu-01", "id-1", 1)
	h.MachineSecret = secret
	again.hello(h)
	if w := again.welcome(); w.GetMachineKey() != "gpu-01" || w.GetLastSeq() != 1 {
		t.Errorf("the real agent with its secret welcomed as %v, want gpu-01 at seq 1", w)
	}
}

// TestDuplicatesByEpochAndSeq: snapshots are told apart by (epoch, seq). A
// reconnect of the same epoch resumes after the last stored seq and its
// replays are acknowledged but stored once; a new epoch (a restarted
// agent) starts again from 1.
func TestDuplicatesByEpochAndSeq(t *testing.T) {
	sink := &recordingSink{}
	a := newAgents(sink)
	steps := []struct {
		name     string
		epoch    uint64
		lastSeq  uint64 // the welcome's
		send     []uint64
		stored   []uint64 // history after the step
		dupTotal uint64
	}{
		{"first stream", 1, 0, []uint64{1, 2, 3}, []uint64{1, 2, 3}, 0},
		{"reconnect replays 2 and 3", 1, 3, []uint64{2, 3, 4}, []uint64{1, 2, 3, 4}, 2},
		{"a replay older than the last ack", 1, 4, []uint64{1}, []uint64{1, 2, 3, 4}, 3},
		{"a restarted agent: new epoch", 2, 0, []uint64{1, 2}, []uint64{1, 2, 3, 4, 1, 2}, 3},
	}
	var secret string
	for _, st := range steps {
		as := connect(t, a)
		h := helloOf("gpu-01", "id-1", st.epoch)
		h.MachineSecret = secret
		as.hello(h)
		w := as.welcome()
		if secret == "" {
			secret = w.GetMachineSecret()
		}
		if w.GetLastSeq() != st.lastSeq {
			t.Fatalf("%s: welcome last seq %d, want %d", st.name, w.GetLastSeq(), st.lastSeq)
		}
		for _, seq := range st.send {
			as.snapshot(seq, reportAt(float64(seq)))
			as.ackOf(seq)
		}
		if got := sink.seqs("gpu-01"); !slices.Equal(got, st.stored) {
			t.Errorf("%s: history %v, want %v", st.name, got, st.stored)
		}
		if got := a.Stats.Duplicates.Load(); got != st.dupTotal {
			t.Errorf("%s: %d duplicates counted, want %d", st.name, got, st.dupTotal)
		}
		as.cancel()
		as.end()
	}
}

// TestSnapshotRefused: a bad message after the welcome ends the stream with
// InvalidArgument; what came before it stays stored.
func TestSnapshotRefused(t *testing.T) {
	tests := []struct {
		name     string
		msg      *gpumonv1.ConnectRequest
		rejected uint64
	}{
		{"seq 0", &gpumonv1.ConnectRequest{Msg: &gpumonv1.ConnectRequest_Snapshot{Snapshot: &gpumonv1.Snapshot{Seq: 0, Report: reportAt(1)}}}, 1},
		{"no report", &gpumonv1.ConnectRequest{Msg: &gpumonv1.ConnectRequest_Snapshot{Snapshot: &gpumonv1.Snapshot{Seq: 2}}}, 1},
		{"a second hello", &gpumonv1.ConnectRequest{Msg: &gpumonv1.ConnectRequest_Hello{Hello: helloOf("gpu-01", "id-1", 1)}}, 0},
		{"an empty message", &gpumonv1.ConnectRequest{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &recordingSink{}
			a := newAgents(sink)
			as := connect(t, a)
			as.hello(helloOf("gpu-01", "id-1", 1))
			as.welcome()
			as.snapshot(1, reportAt(1))
			as.ackOf(1)
			as.send(tt.msg)
			if err := as.end(); codeOf(err) != codes.InvalidArgument {
				t.Errorf("stream ended with %v, want InvalidArgument", err)
			}
			if got := a.Stats.Rejected.Load(); got != tt.rejected {
				t.Errorf("%d rejected counted, want %d", got, tt.rejected)
			}
			if got := sink.seqs("gpu-01"); !slices.Equal(got, []uint64{1}) {
				t.Errorf("history %v, want [1]", got)
			}
		})
	}
}

// TestSnapshotKeepsItsMachine: a report naming another host, or carrying
// another machine id, is the stream's machine all the same.
func TestSnapshotKeepsItsMachine(t *testing.T) {
	a := newAgents(&recordingSink{})
	as := connect(t, a)
	as.hello(helloOf("gpu-01", "id-1", 1))
	as.welcome()
	r := reportAt(42)
	r.Hostname, r.MachineId = "gpu-02", "id-2"
	as.snapshot(1, r)
	as.ackOf(1)
	if _, ok := a.Fleet.Get("gpu-02"); ok {
		t.Error("a snapshot created the machine it named")
	}
	m, _ := a.Fleet.Get("gpu-01")
	rep := m.State().Report
	if rep.GetHostname() != "gpu-01" || rep.GetMachineId() != "" || rep.GetSystemInfo().GetCpuPercent() != 42 {
		t.Errorf("gpu-01's report: hostname %q, machine id %q, cpu %v", rep.GetHostname(), rep.GetMachineId(), rep.GetSystemInfo().GetCpuPercent())
	}
}

// TestSampleTimes: the clock rules as a stream sees them. A sample time in
// the future beyond the allowed skew, or older than the agent's buffer, is
// replaced by the hub's receive time; one within the rules is kept.
func TestSampleTimes(t *testing.T) {
	tests := []struct {
		name   string
		offset time.Duration // of the report's timestamp from now
		kept   bool
	}{
		{"now", 0, true},
		{"10 s ahead", 10 * time.Second, true},
		{"a minute ago", -time.Minute, true},
		{"the year 2999", time.Until(time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)), false},
		{"an hour ahead", time.Hour, false},
		{"a week old", -7 * 24 * time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAgents(&recordingSink{})
			as := connect(t, a)
			as.hello(helloOf("gpu-01", "id-1", 1))
			as.welcome()
			stamp := time.Now().Add(tt.offset).Truncate(time.Millisecond)
			r := reportAt(1)
			r.Timestamp = timestamppb.New(stamp)
			before := time.Now()
			as.snapshot(1, r)
			as.ackOf(1)
			after := time.Now()
			m, _ := a.Fleet.Get("gpu-01")
			got := m.State().SampleTime
			switch {
			case tt.kept && !got.Equal(stamp):
				t.Errorf("sample time %v, want the agent's %v", got, stamp)
			case !tt.kept && (got.Before(before) || got.After(after)):
				t.Errorf("sample time %v, want the hub's receive time (between %v and %v)", got, before, after)
			}
		})
	}
}

// TestRateBudget: the snapshot budget is the machine's, over all its
// streams: the snapshot past the burst is refused with ResourceExhausted
// and counted as shed even on a new stream (reconnecting buys no new
// burst), while another machine's budget is its own.
func TestRateBudget(t *testing.T) {
	a := newAgents(&recordingSink{})
	a.SnapshotRate, a.SnapshotBurst = 0.0001, 3 // no refill within the test
	send := func(as *agentSide, from, to uint64) {
		t.Helper()
		for seq := from; seq <= to; seq++ {
			as.snapshot(seq, reportAt(1))
			as.ackOf(seq)
		}
	}
	first := connect(t, a)
	first.hello(helloOf("gpu-01", "id-1", 1))
	secret := first.welcome().GetMachineSecret()
	send(first, 1, 2)
	first.cancel()
	first.end()
	again := connect(t, a)
	h := helloOf("gpu-01", "id-1", 1)
	h.MachineSecret = secret
	again.hello(h)
	again.welcome()
	send(again, 3, 3)
	again.snapshot(4, reportAt(1))
	if err := again.end(); codeOf(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "slow down") {
		t.Errorf("the fourth snapshot of a burst of 3, on a new stream: %v, want ResourceExhausted saying to slow down", err)
	}
	if got := a.Stats.Shed.Load(); got != 1 {
		t.Errorf("%d streams shed, want 1", got)
	}
	other := connect(t, a)
	other.hello(helloOf("gpu-02", "id-2", 1))
	other.welcome()
	send(other, 1, 3)
}

// TestCommandsAndResults: a command for the machine goes out on its stream
// with a request id, the agent's result comes back to the caller, a result
// for no pending command is dropped without harm, and a caller still
// waiting when the stream ends is told so.
func TestCommandsAndResults(t *testing.T) {
	a := newAgents(&recordingSink{})
	as := connect(t, a)
	h := helloOf("gpu-01", "id-1", 1)
	h.Capabilities = append(h.Capabilities, "kill")
	as.hello(h)
	as.welcome()
	m, _ := a.Fleet.Get("gpu-01")
	if !m.Conn().CanKill {
		t.Fatal("the agent announced kill, the connection does not")
	}
	type answer struct {
		res *gpumonv1.CommandResult
		err error
	}
	call := func() chan answer {
		ch := make(chan answer, 1)
		go func() {
			res, err := m.Conn().Call(context.Background(), &gpumonv1.Command{Kind: &gpumonv1.Command_Kill{Kill: &gpumonv1.KillCommand{Pids: []int32{42}}}})
			ch <- answer{res, err}
		}()
		return ch
	}
	first := call()
	cmd := as.recv().GetCommand()
	if cmd == nil || cmd.GetRequestId() == "" || !slices.Equal(cmd.GetKill().GetPids(), []int32{42}) {
		t.Fatalf("command on the stream: %v", cmd)
	}
	as.send(&gpumonv1.ConnectRequest{Msg: &gpumonv1.ConnectRequest_CommandResult{CommandResult: &gpumonv1.CommandResult{RequestId: "no-such-request"}}})
	as.send(&gpumonv1.ConnectRequest{Msg: &gpumonv1.ConnectRequest_CommandResult{CommandResult: &gpumonv1.CommandResult{
		RequestId: cmd.GetRequestId(), Ok: true, KillResults: []*gpumonv1.KillResult{{Pid: 42, Status: "success"}},
	}}})
	select {
	case got := <-first:
		if got.err != nil || !got.res.GetOk() || got.res.GetKillResults()[0].GetPid() != 42 {
			t.Errorf("caller got %v, %v", got.res, got.err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the result never reached the caller")
	}
	second := call()
	as.recv() // the command; the agent leaves without answering
	as.cancel()
	select {
	case got := <-second:
		if !errors.Is(got.err, fleet.ErrStreamClosed) {
			t.Errorf("caller of a command whose stream ended got %v, %v; want ErrStreamClosed", got.res, got.err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the caller was left waiting after the stream ended")
	}
}

// TestShutdownEndsStreams: when the hub stops, streams end with
// Unavailable, so agents reconnect to it when it is back.
func TestShutdownEndsStreams(t *testing.T) {
	a := newAgents(&recordingSink{})
	stopping := make(chan struct{})
	a.Stopping = stopping
	as := connect(t, a)
	as.hello(helloOf("gpu-01", "id-1", 1))
	as.welcome()
	close(stopping)
	if err := as.end(); codeOf(err) != codes.Unavailable {
		t.Errorf("stream ended with %v at shutdown, want Unavailable", err)
	}
}

// TestOutboxCoalescesAcks: acks are cumulative, so those that pile up while
// the agent does not read collapse into the newest, and one never goes
// back; commands pass through.
func TestOutboxCoalescesAcks(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	s := &fakeStream{ctx: ctx, out: make(chan *gpumonv1.ConnectResponse, 8)}
	conn := fleet.NewAgentConn(true)
	o := newOutbox()
	for _, seq := range []uint64{5, 3, 7} {
		o.ack(seq)
	}
	done := make(chan error, 1)
	go func() { done <- o.run(ctx, s, conn) }()
	defer func() { cancel(); <-done }()
	next := func() *gpumonv1.ConnectResponse {
		t.Helper()
		select {
		case m := <-s.out:
			return m
		case <-time.After(time.Minute):
			t.Fatal("nothing sent")
		}
		return nil
	}
	if got := next().GetAck().GetSeq(); got != 7 {
		t.Fatalf("first ack %d, want 7 (5, 3 and 7 coalesced)", got)
	}
	o.ack(6)
	o.ack(9)
	if got := next().GetAck().GetSeq(); got != 9 {
		t.Fatalf("next ack %d, want 9: 6 is behind 7 and never sent", got)
	}
	go func() {
		_, _ = conn.Call(ctx, &gpumonv1.Command{Kind: &gpumonv1.Command_SampleNow{SampleNow: &gpumonv1.SampleNowCommand{}}})
	}()
	if cmd := next().GetCommand(); cmd.GetSampleNow() == nil {
		t.Fatalf("sent %v, want the command", cmd)
	}
}
