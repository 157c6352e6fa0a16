package stream

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeSampler reports two GPUs and the given pids as processes, the gpuPids
// among them as using GPU 0.
type fakeSampler struct{ pids, gpuPids []int32 }

func (f fakeSampler) Sample(context.Context) *gpumonv1.Report {
	r := &gpumonv1.Report{
		DriverVersion: "550.54.15",
		GpuData: []*gpumonv1.Gpu{
			{Id: 0, Uuid: "GPU-a", Name: "NVIDIA H100", MemoryTotal: 81559, MemoryUsed: 100, PowerLimit: proto.Float64(700), PciBusId: "00000000:18:00.0"},
			{Id: 1, Uuid: "GPU-b", Name: "NVIDIA H100", MemoryTotal: 81559, MemoryUsed: 200},
		},
		SystemInfo: &gpumonv1.SystemInfo{Os: "Debian 12", CpuCores: 2, CpuPercent: 12},
	}
	for _, pid := range f.pids {
		gpu := slices.Contains(f.gpuPids, pid)
		r.SystemInfo.Processes = append(r.SystemInfo.Processes, &gpumonv1.Process{Pid: pid, IsGpuProcess: gpu})
		if gpu {
			r.GpuData[0].Processes = append(r.GpuData[0].Processes, &gpumonv1.Process{Pid: pid, IsGpuProcess: true})
		}
	}
	return r
}

func newTestClient(addr string, kill KillPolicy, pids ...int32) *Client {
	return New(Config{
		Hub: addr, Token: "secret-token", Hostname: "node-1", MachineID: "m-1", Version: "test",
		Interval: 50 * time.Millisecond, MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		Kill: kill,
	}, fakeSampler{pids: pids})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func run(t *testing.T, c *Client) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	return func() { cancel(); <-done }
}

func TestHelloThenSnapshotsInOrder(t *testing.T) {
	rec := newRecorder()
	hub := startFakeHub(t, rec, "127.0.0.1:0")
	defer hub.srv.Stop()
	stop := run(t, newTestClient(hub.addr, KillPolicy{}))
	waitFor(t, "5 snapshots", func() bool { _, seqs, _ := rec.snapshot(); return len(seqs) >= 5 })
	stop()

	hellos, seqs, _ := rec.snapshot()
	if len(hellos) != 1 {
		t.Fatalf("%d hellos, want 1", len(hellos))
	}
	h := hellos[0]
	if h.GetHostname() != "node-1" || h.GetMachineId() != "m-1" || h.GetEpoch() == 0 {
		t.Errorf("hello = %v", h)
	}
	if g := h.GetInventory().GetGpus(); len(g) != 2 || g[0].GetName() != "NVIDIA H100" || g[0].GetMemoryTotal() != 81559 || g[0].GetPciBusId() != "00000000:18:00.0" {
		t.Errorf("inventory GPUs = %v", g)
	}
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("seqs = %v, want 1, 2, 3, ...", seqs)
		}
	}
	rep := rec.reports[0]
	if g := rep.GetGpuData()[0]; g.GetName() != "" || g.GetMemoryTotal() != 0 || g.PowerLimit != nil || g.GetPciBusId() != "" || g.GetMemoryUsed() != 100 {
		t.Errorf("snapshot GPU should carry only dynamic values, got %v", g)
	}
	if rep.GetHostname() != "node-1" || rep.GetDriverVersion() != "" {
		t.Errorf("snapshot identity/static = %q %q", rep.GetHostname(), rep.GetDriverVersion())
	}
}

func TestReplayAfterHubOutage(t *testing.T) {
	rec := newRecorder()
	hub := startFakeHub(t, rec, "127.0.0.1:0")
	addr := hub.addr
	c := newTestClient(addr, KillPolicy{})
	stop := run(t, c)
	defer stop()
	waitFor(t, "3 snapshots", func() bool { _, seqs, _ := rec.snapshot(); return len(seqs) >= 3 })

	hub.srv.Stop() // the hub goes away
	waitFor(t, "agent to notice", func() bool { return !c.Connected() })
	waitFor(t, "10 buffered snapshots", func() bool { n, _ := c.Pending(); return n >= 10 })
	_, before, _ := rec.snapshot()

	hub = startFakeHub(t, rec, addr) // back on the same address
	defer hub.srv.Stop()
	waitFor(t, "reconnect and replay", func() bool {
		_, seqs, _ := rec.snapshot()
		return c.Connected() && len(seqs) > len(before)+12
	})
	stop()

	hellos, seqs, _ := rec.snapshot()
	if len(hellos) < 2 || hellos[0].GetEpoch() != hellos[1].GetEpoch() {
		t.Errorf("want a second hello with the same epoch, got %d hellos", len(hellos))
	}
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("hub saw seqs %v: every seq must arrive once, in order", seqs)
		}
	}
}

// TestKillCommand: kills only with --allow-kill, only processes the agent
// reports as using a GPU unless --allow-kill-non-gpu widens that, never PID
// 1, the agent itself or an unreported PID.
func TestKillCommand(t *testing.T) {
	tests := []struct {
		name   string
		policy KillPolicy
		gpu    bool // the child is reported as a GPU process
		killed bool
		msg    string
	}{
		{"not allowed", KillPolicy{}, true, false, "not allowed"},
		{"GPU process", KillPolicy{Allow: true}, true, true, "SIGTERM sent"},
		{"process using no GPU", KillPolicy{Allow: true}, false, false, "uses no GPU"},
		{"any process when widened", KillPolicy{Allow: true, AnyProcess: true}, false, true, "SIGTERM sent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			child := exec.Command("sleep", "30")
			if err := child.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- child.Wait() }()
			defer func() { _ = child.Process.Kill(); <-exited }()
			pid := int32(child.Process.Pid)

			rec := newRecorder()
			hub := startFakeHub(t, rec, "127.0.0.1:0")
			defer hub.srv.Stop()
			sampler := fakeSampler{pids: []int32{pid, 1, int32(os.Getpid())}}
			if tt.gpu {
				sampler.gpuPids = []int32{pid}
			}
			c := New(Config{
				Hub: hub.addr, Token: "secret-token", Hostname: "node-1", MachineID: "m-1", Version: "test",
				Interval: 50 * time.Millisecond, MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
				Kill: tt.policy,
			}, sampler)
			stop := run(t, c)
			defer stop()
			waitFor(t, "connection", c.Connected)
			waitFor(t, "a snapshot", func() bool { _, s, _ := rec.snapshot(); return len(s) > 0 })

			rec.commands <- &gpumonv1.Command{RequestId: "r1", Kind: &gpumonv1.Command_Kill{
				Kill: &gpumonv1.KillCommand{Pids: []int32{pid, 1, int32(os.Getpid()), 999999}},
			}}
			waitFor(t, "the command result", func() bool { _, _, r := rec.snapshot(); return len(r) == 1 })
			_, _, results := rec.snapshot()
			res := results[0]
			if res.GetRequestId() != "r1" || res.GetOk() != tt.policy.Allow || len(res.GetKillResults()) != 4 {
				t.Fatalf("result = %v", res)
			}
			statuses := []string{}
			for _, kr := range res.GetKillResults() {
				statuses = append(statuses, kr.GetStatus())
			}
			want := []string{"error", "error", "error", "error"}
			if tt.killed {
				want[0] = "success"
			}
			if !slices.Equal(statuses, want) || !strings.Contains(res.GetKillResults()[0].GetMessage(), tt.msg) {
				t.Errorf("statuses %v, want %v and %q for the child (results %v)", statuses, want, tt.msg, res.GetKillResults())
			}
			if tt.killed {
				select {
				case err := <-exited:
					if ws, ok := child.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGTERM {
						t.Errorf("child ended by %v, want SIGTERM", child.ProcessState)
					}
					exited <- err // for the deferred cleanup
				case <-time.After(10 * time.Second):
					t.Fatal("child still running 10 s after an allowed kill")
				}
				return
			}
			select {
			case err := <-exited:
				t.Fatalf("child exited (%v) although the kill was refused", err)
			case <-time.After(300 * time.Millisecond): // a refused kill sends nothing
			}
		})
	}
}

func TestBufferDropsOldest(t *testing.T) {
	b := newBuffer(3)
	for i := uint64(1); i <= 5; i++ {
		if err := b.push(&gpumonv1.Snapshot{Seq: i}); err != nil {
			t.Fatal(err)
		}
	}
	n, dropped := b.stats()
	if n != 3 || dropped != 2 {
		t.Fatalf("pending %d dropped %d, want 3 and 2", n, dropped)
	}
	if s, _ := b.after(0); s.GetSeq() != 3 {
		t.Errorf("oldest kept = %d, want 3", s.GetSeq())
	}
	b.ack(4)
	if s, _ := b.after(0); s.GetSeq() != 5 {
		t.Errorf("after ack(4) first = %d, want 5", s.GetSeq())
	}
}

func TestBackoffGrowsAndCaps(t *testing.T) {
	for attempt, wantMax := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second} {
		for range 20 {
			d := backoff(time.Second, 30*time.Second, attempt)
			if d < wantMax/2 || d > wantMax {
				t.Fatalf("attempt %d: backoff %v outside [%v, %v]", attempt, d, wantMax/2, wantMax)
			}
		}
	}
}

func TestBufferTimesAcks(t *testing.T) {
	b := newBuffer(8)
	var waits []time.Duration
	b.onAck = func(d time.Duration) { waits = append(waits, d) }
	for i := uint64(1); i <= 3; i++ {
		if err := b.push(&gpumonv1.Snapshot{Seq: i}); err != nil {
			t.Fatal(err)
		}
	}
	if s, ok := b.after(0); !ok || s.GetSeq() != 1 {
		t.Fatalf("after(0) = %v, %v", s, ok)
	}
	if s, ok := b.after(1); !ok || s.GetSeq() != 2 {
		t.Fatalf("after(1) = %v, %v", s, ok)
	}
	b.ack(3) // seq 3 was never sent: acknowledged, not timed
	if len(waits) != 2 || waits[0] < 0 || waits[1] < 0 {
		t.Errorf("timed acks = %v, want 2", waits)
	}
	if s, ok := b.after(0); ok {
		t.Errorf("after ack(3) the buffer still holds %d", s.GetSeq())
	}
}

// TestObserve: the observer sees every sample whole, static facts included,
// with the key the hub's welcome gave, and the snapshot sent is still
// stripped of them.
func TestObserve(t *testing.T) {
	rec := newRecorder()
	hub := startFakeHub(t, rec, "127.0.0.1:0")
	defer hub.srv.Stop()
	type seen struct {
		name, bus, key string
		interval       float64
	}
	var mu sync.Mutex
	var got []seen
	c := newTestClient(hub.addr, KillPolicy{})
	c.cfg.Observe = func(r *gpumonv1.Report, key string) {
		g := r.GetGpuData()[0]
		mu.Lock()
		got = append(got, seen{g.GetName(), g.GetPciBusId(), key, r.GetIntervalSeconds()})
		mu.Unlock()
	}
	stop := run(t, c)
	waitFor(t, "3 snapshots", func() bool { _, seqs, _ := rec.snapshot(); return len(seqs) >= 3 })
	stop()
	mu.Lock()
	defer mu.Unlock()
	last := got[len(got)-1]
	if len(got) < 3 || last.name != "NVIDIA H100" || last.bus != "00000000:18:00.0" || last.key != "node-1" || last.interval <= 0 {
		t.Errorf("observed %+v", got)
	}
	if c.MachineKey() != "node-1" {
		t.Errorf("MachineKey = %q", c.MachineKey())
	}
	rec.mu.Lock()
	sent := rec.reports[len(rec.reports)-1]
	rec.mu.Unlock()
	if g := sent.GetGpuData()[0]; g.GetName() != "" || g.GetPciBusId() != "" {
		t.Errorf("sent snapshot carries static facts: %v", g)
	}
}

// Two hubs of one cluster share what they acknowledged (one recorder): when
// the hub holding the stream goes away the agent moves to the other and
// replays exactly what was not acknowledged, every seq once, in order.
func TestFailoverToAnotherHub(t *testing.T) {
	rec := newRecorder()
	a := startFakeHub(t, rec, "127.0.0.1:0")
	b := startFakeHub(t, rec, "127.0.0.1:0")
	defer b.srv.Stop()
	defer a.srv.Stop()
	c := newTestClient(a.addr+", "+b.addr, KillPolicy{})
	stop := run(t, c)
	defer stop()
	waitFor(t, "5 snapshots", func() bool { _, seqs, _ := rec.snapshot(); return len(seqs) >= 5 })

	// Stop whichever hub the agent chose; it must end up on the other.
	first, second := a, b
	if len(a.streams()) == 0 {
		first, second = b, a
	}
	_, before, _ := rec.snapshot()
	first.srv.Stop()
	waitFor(t, "failover and replay", func() bool {
		_, seqs, _ := rec.snapshot()
		return c.Connected() && len(second.streams()) > 0 && len(seqs) > len(before)+10
	})
	stop()
	_, seqs, _ := rec.snapshot()
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("hubs saw seqs %v: every seq must arrive once, in order", seqs)
		}
	}
}

func TestParseHubs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		ok   bool
	}{
		{"hub:7865", []string{"hub:7865"}, true},
		{"a:7865, b:7865,c:7865", []string{"a:7865", "b:7865", "c:7865"}, true},
		{"[::1]:7865,a:1", []string{"[::1]:7865", "a:1"}, true},
		{"", nil, false},
		{" , ", nil, false},
		{"a:7865,b", nil, false},
		{"a:", nil, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseHubs(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("ParseHubs(%q) error = %v, want ok=%v", tc.in, err, tc.ok)
			}
			if tc.ok && !slices.Equal(got, tc.want) {
				t.Errorf("ParseHubs(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// badFirstSampler's first sample holds a string protobuf cannot encode.
type badFirstSampler struct {
	fakeSampler
	n atomic.Int32
}

func (b *badFirstSampler) Sample(ctx context.Context) *gpumonv1.Report {
	r := b.fakeSampler.Sample(ctx)
	if b.n.Add(1) == 1 {
		r.GpuData[0].Error = "bad \xff"
	}
	return r
}

// A snapshot that cannot be encoded ends its stream once and is dropped:
// the next stream carries the samples after it, with no stream lost
// replaying it.
func TestUnencodableSnapshotIsDropped(t *testing.T) {
	rec := newRecorder()
	hub := startFakeHub(t, rec, "127.0.0.1:0")
	defer hub.srv.Stop()
	c := New(Config{
		Hub: hub.addr, Token: "secret-token", Hostname: "node-1", MachineID: "m-1", Version: "test",
		Interval: 50 * time.Millisecond, MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
	}, &badFirstSampler{})
	stop := run(t, c)
	waitFor(t, "4 snapshots", func() bool { _, seqs, _ := rec.snapshot(); return len(seqs) >= 4 })
	stop()
	hellos, seqs, _ := rec.snapshot()
	if len(hellos) != 2 || seqs[0] != 2 {
		t.Errorf("%d streams, snapshots %v: want 2 streams, the second from snapshot 2", len(hellos), seqs)
	}
	if _, dropped := c.Pending(); dropped != 1 {
		t.Errorf("%d snapshots dropped, want 1", dropped)
	}
}
