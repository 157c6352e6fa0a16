package history

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// lab is a made-up fleet whose samples the accounting tests feed through the
// store: users come and go, share GPUs, one process has no known owner, one
// machine samples every 3 s and goes quiet for a minute.
type lab struct {
	rng      *rand.Rand
	users    []string
	interval map[string]time.Duration
}

func (l *lab) report(host string, at time.Time) *gpumonv1.Report {
	r := &gpumonv1.Report{Hostname: host, Timestamp: timestamppb.New(at), IntervalSeconds: l.interval[host].Seconds()}
	for g := range 4 {
		gpu := &gpumonv1.Gpu{Id: int32(g), Uuid: fmt.Sprintf("GPU-%s-%d", host, g), Name: "H100", MemoryTotal: 81559,
			Utilization: proto.Uint32(uint32(l.rng.IntN(101)))}
		for range l.rng.IntN(4) { // 0-3 processes, users may repeat
			u := l.users[l.rng.IntN(len(l.users))]
			gpu.Processes = append(gpu.Processes, &gpumonv1.Process{Pid: int32(1000 + l.rng.IntN(9000)), Username: u,
				GpuMemoryUsage: uint32(256 + l.rng.IntN(40000))})
		}
		r.GpuData = append(r.GpuData, gpu)
	}
	return r
}

// want is the accounting of raw reports, computed straight from its
// definition: each report counts for the time since the machine's previous
// one, at most three intervals.
type want struct {
	userGPUSecs, userMemSecs, machGPUSecs, machMemSecs map[string]float64
}

func newWant() want {
	return want{map[string]float64{}, map[string]float64{}, map[string]float64{}, map[string]float64{}}
}

func (w want) add(key string, r *gpumonv1.Report, dt float64) {
	for _, g := range r.GetGpuData() {
		users := map[string]bool{}
		for _, p := range g.GetProcesses() {
			u := p.GetUsername()
			if u == "" {
				u = "unknown"
			}
			users[u] = true
			w.userMemSecs[u] += float64(p.GetGpuMemoryUsage()) * dt
			w.machMemSecs[key] += float64(p.GetGpuMemoryUsage()) * dt
		}
		for u := range users {
			w.userGPUSecs[u] += dt
		}
		if len(g.GetProcesses()) > 0 {
			w.machGPUSecs[key] += dt
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*max(1, math.Abs(a), math.Abs(b)) }

func sumRows(rows []*gpumonv1.UsageRow) (hours, gib float64) {
	for _, r := range rows {
		hours += r.GetGpuHours()
		gib += r.GetGpuMemoryGibHours()
	}
	return hours, gib
}

// TestUsageAddsUp feeds a lab's samples through the real store and checks
// GetUsage against the raw samples, for the whole run and for a window in
// the middle of it: every user's and machine's GPU-hours and GiB-hours, the
// users' memory summing to the machines', the total, and the users'
// GPU-hours covering the machines' (shared GPUs count for each user).
func TestUsageAddsUp(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	f := fleet.New(nil)
	l := &lab{rng: rand.New(rand.NewPCG(7, 11)), users: []string{"alice", "bob", "carol", ""},
		interval: map[string]time.Duration{"n1": 2 * time.Second, "n2": 2 * time.Second, "n3": 3 * time.Second}}
	type event struct {
		host string
		at   time.Time
	}
	var events []event
	for host, iv := range l.interval {
		for at := t0; at.Before(t0.Add(20 * time.Minute)); at = at.Add(iv) {
			if host == "n3" && at.After(t0.Add(5*time.Minute)) && at.Before(t0.Add(6*time.Minute)) {
				continue // n3 goes quiet for a minute
			}
			events = append(events, event{host, at})
		}
	}
	slices.SortStableFunc(events, func(a, b event) int { return a.at.Compare(b.at) }) // machines interleave
	machines := map[string]*fleet.Machine{}
	for host := range l.interval {
		machines[host] = testMachine(t, f, host)
	}
	whole, middle := newWant(), newWant()
	mStart, mEnd := t0.Add(7*time.Minute), t0.Add(13*time.Minute)
	last := map[string]time.Time{}
	for _, ev := range events {
		r := l.report(ev.host, ev.at)
		dt := 0.0
		if prev, ok := last[ev.host]; ok {
			dt = min(ev.at.Sub(prev), 3*l.interval[ev.host]).Seconds()
		}
		last[ev.host] = ev.at
		whole.add(ev.host, r, dt)
		if ev.at.After(mStart) && !ev.at.After(mEnd) {
			middle.add(ev.host, r, dt)
		}
		s.Record(machines[ev.host], r, 0)
	}
	svc := &Service{Ranger: s}
	for _, tc := range []struct {
		name       string
		start, end time.Time
		want       want
	}{
		{"whole run", t0.Add(-time.Minute), t0.Add(21 * time.Minute), whole},
		{"minutes 7 to 13", mStart, mEnd, middle},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := svc.Usage(context.Background(), &gpumonv1.GetUsageRequest{Start: timestamppb.New(tc.start), End: timestamppb.New(tc.end)})
			if err != nil {
				t.Fatal(err)
			}
			checkRows(t, "user", resp.GetUsers(), tc.want.userGPUSecs, tc.want.userMemSecs)
			checkRows(t, "machine", resp.GetMachines(), tc.want.machGPUSecs, tc.want.machMemSecs)
			uh, ug := sumRows(resp.GetUsers())
			mh, mg := sumRows(resp.GetMachines())
			if !near(ug, mg) || mg == 0 {
				t.Errorf("GiB-hours: users %.9f, machines %.9f; want equal and above 0", ug, mg)
			}
			if uh < mh || mh == 0 {
				t.Errorf("GPU-hours: users %.6f < machines %.6f (or none at all)", uh, mh)
			}
			if tot := resp.GetTotal(); !near(tot.GetGpuHours(), mh) || !near(tot.GetGpuMemoryGibHours(), mg) {
				t.Errorf("total = %v, want the machines' sums %.6f h, %.6f GiB-h", tot, mh, mg)
			}
		})
	}
}

func checkRows(t *testing.T, kind string, rows []*gpumonv1.UsageRow, gpuSecs, memSecs map[string]float64) {
	t.Helper()
	if len(rows) != len(gpuSecs) {
		t.Errorf("%d %s rows, want %d: %v", len(rows), kind, len(gpuSecs), rows)
	}
	for _, r := range rows {
		if h, g := gpuSecs[r.GetName()]/3600, memSecs[r.GetName()]/1024/3600; !near(r.GetGpuHours(), h) || !near(r.GetGpuMemoryGibHours(), g) {
			t.Errorf("%s %q: %.9f GPU-h, %.9f GiB-h; want %.9f, %.9f", kind, r.GetName(), r.GetGpuHours(), r.GetGpuMemoryGibHours(), h, g)
		}
	}
}
