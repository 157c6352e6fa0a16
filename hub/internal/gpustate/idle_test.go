package gpustate

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

var t0 = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func TestIdle(t *testing.T) {
	u := proto.Uint32
	held := proc("bob", "compute", 30000)
	for _, tc := range []struct {
		name string
		g    *gpumonv1.Gpu
		idle bool
	}{
		{"memory held at 0 %", gpu("H100", 81559, 30000, u(0), held), true},
		{"at 5 %", gpu("H100", 81559, 30000, u(5), held), true},
		{"at 6 %", gpu("H100", 81559, 30000, u(6), held), false},
		{"under 1 GiB", gpu("H100", 81559, 1023, u(0), proc("bob", "compute", 1000)), false},
		{"no process", gpu("H100", 81559, 30000, u(0)), false},
		{"utilisation unknown", gpu("H100", 81559, 30000, nil, held), false},
		{"cannot be read", &gpumonv1.Gpu{MemoryUsed: 30000, Utilization: u(0), Processes: []*gpumonv1.Process{held}, Error: "lost"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Idle(tc.g); got != tc.idle {
				t.Errorf("Idle = %v, want %v", got, tc.idle)
			}
		})
	}
}

// sample is a one-GPU report: GPU 0 holding 30 GiB at util %.
func sample(util uint32, uuid string) *gpumonv1.Report {
	return &gpumonv1.Report{GpuData: []*gpumonv1.Gpu{{Id: 0, Uuid: uuid, MemoryTotal: 81559, MemoryUsed: 30000,
		Utilization: proto.Uint32(util), Processes: []*gpumonv1.Process{proc("bob", "compute", 30000)}}}}
}

// TestMarkIdle follows one GPU through a series of samples, each marked
// from the one before, as the hub does for a machine's current reports.
func TestMarkIdle(t *testing.T) {
	after := 30 * time.Minute
	type step struct {
		at       time.Duration // since t0
		util     uint32
		uuid     string
		gap      bool // the previous report does not follow on
		since    time.Duration
		idle     bool // idle_since set
		idleHeld bool
	}
	steps := []step{
		{at: 0, util: 0, uuid: "A", since: 0, idle: true},
		{at: 10 * time.Minute, util: 2, uuid: "A", since: 0, idle: true},
		{at: 29*time.Minute + 59*time.Second, util: 0, uuid: "A", since: 0, idle: true},
		{at: 30 * time.Minute, util: 0, uuid: "A", since: 0, idle: true, idleHeld: true},
		{at: 31 * time.Minute, util: 60, uuid: "A"},                                                // works again
		{at: 32 * time.Minute, util: 0, uuid: "A", since: 32 * time.Minute, idle: true},            // a new idle spell
		{at: 33 * time.Minute, util: 0, uuid: "B", since: 33 * time.Minute, idle: true},            // another card at index 0
		{at: 40 * time.Minute, util: 0, uuid: "B", gap: true, since: 40 * time.Minute, idle: true}, // after a gap
		{at: 80 * time.Minute, util: 0, uuid: "B", since: 40 * time.Minute, idle: true, idleHeld: true},
	}
	var prev *gpumonv1.Report
	for i, s := range steps {
		r := sample(s.util, s.uuid)
		from := prev
		if s.gap {
			from = nil
		}
		MarkIdle(r, from, t0.Add(s.at), after)
		g := r.GetGpuData()[0]
		if got := g.IdleSince != nil; got != s.idle {
			t.Fatalf("step %d: idle_since set = %v, want %v", i, got, s.idle)
		}
		if s.idle && !g.GetIdleSince().AsTime().Equal(t0.Add(s.since)) {
			t.Errorf("step %d: idle since %s, want %s", i, g.GetIdleSince().AsTime(), t0.Add(s.since))
		}
		if g.GetIdleHeld() != s.idleHeld {
			t.Errorf("step %d: idle_held = %v, want %v", i, g.GetIdleHeld(), s.idleHeld)
		}
		prev = r
	}
}

// TestMarkIdleReplacesWhatTheSenderSaid: idle_since and idle_held are the
// hub's; an agent or a posted report cannot set them.
func TestMarkIdleReplacesWhatTheSenderSaid(t *testing.T) {
	busy := sample(90, "A")
	busy.GpuData[0].IdleSince = timestamppb.New(t0.Add(-24 * time.Hour))
	busy.GpuData[0].IdleHeld = true
	MarkIdle(busy, nil, t0, time.Minute)
	if g := busy.GetGpuData()[0]; g.IdleSince != nil || g.GetIdleHeld() {
		t.Errorf("a busy GPU kept what its sender claimed: since %v, held %v", g.GetIdleSince(), g.GetIdleHeld())
	}
	idle := sample(0, "A")
	idle.GpuData[0].IdleSince = timestamppb.New(t0.Add(-24 * time.Hour))
	MarkIdle(idle, nil, t0, time.Minute)
	if g := idle.GetGpuData()[0]; !g.GetIdleSince().AsTime().Equal(t0) || g.GetIdleHeld() {
		t.Errorf("an idle GPU took its sender's start: since %v, held %v", g.GetIdleSince().AsTime(), g.GetIdleHeld())
	}
	future := sample(0, "A")
	future.GpuData[0].IdleSince = timestamppb.New(t0.Add(time.Hour))
	next := sample(0, "A")
	MarkIdle(next, future, t0, time.Minute)
	if g := next.GetGpuData()[0]; !g.GetIdleSince().AsTime().Equal(t0) {
		t.Errorf("idle since the future: %v", g.GetIdleSince().AsTime())
	}
}

func TestIdleGPU(t *testing.T) {
	r := sample(0, "A")
	r.GpuData[0].Processes = append(r.GpuData[0].Processes, proc("alice", "compute", 10), proc("", "compute", 10), proc("bob", "compute", 10))
	MarkIdle(r, nil, t0, time.Minute)
	ig := IdleGPU("m", "h", r.GetGpuData()[0], t0.Add(90*time.Second))
	if ig.GetIdleSeconds() != 90 || len(ig.GetUsers()) != 2 || ig.GetUsers()[0] != "alice" || ig.GetUsers()[1] != "bob" {
		t.Errorf("IdleGPU = %v, want 90 s held by alice and bob", ig)
	}
}
