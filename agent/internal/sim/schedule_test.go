package sim

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// fakeSchedule is a schedule as the load generator uses it: no processes,
// made-up PIDs.
func fakeSchedule(seed uint64, n int) *Schedule {
	return newSchedule(seed, n, false, t0, scheduleConfig{fakePIDs: true, users: []string{"alice", "bob"}, home: homeDir([]string{"alice"})})
}

// busyAt counts the GPUs a job holds at t.
func busyAt(s *Schedule, n int, t time.Time) int {
	busy := 0
	for g := range n {
		if _, ok := s.on(g, t); ok {
			busy++
		}
	}
	return busy
}

// describe renders what runs at t, to compare schedules.
func describe(s *Schedule, t time.Time) string {
	out := ""
	for _, j := range s.Running(t) {
		out += fmt.Sprintf("%d %s %v %s %s %q %v|", j.ID, j.Kind, j.GPUs, j.Start.Sub(t0), j.End.Sub(t0), j.Session.Name, j.Procs[0].Argv)
	}
	return out
}

// TestScheduleDeterministic: the same seed and start give the same jobs at
// the same moments; another seed gives others.
func TestScheduleDeterministic(t *testing.T) {
	a, b, c := fakeSchedule(7, 8), fakeSchedule(7, 8), fakeSchedule(8, 8)
	differs := false
	for at := t0; at.Before(t0.Add(4 * time.Hour)); at = at.Add(47 * time.Second) {
		da, db, dc := describe(a, at), describe(b, at), describe(c, at)
		if da != db {
			t.Fatalf("same seed at %s:\n%s\n%s", at.Sub(t0), da, db)
		}
		differs = differs || da != dc
	}
	if !differs {
		t.Error("seeds 7 and 8 ran the same jobs")
	}
}

// TestScheduleVaries: across a fleet, some machines sit mostly idle and some
// are mostly full, and the busy share follows each machine's temperament.
func TestScheduleVaries(t *testing.T) {
	const machines, n = 100, 8
	quiet, full := 0, 0
	shares := map[int]bool{}
	for seed := range uint64(machines) {
		s := fakeSchedule(seed, n)
		var sum, samples int
		for at := t0; at.Before(t0.Add(3 * time.Hour)); at = at.Add(time.Minute) {
			sum += busyAt(s, n, at)
			samples++
		}
		share := float64(sum) / float64(samples*n)
		shares[int(share*10)] = true
		switch {
		case share < 0.25:
			quiet++
		case share > 0.75:
			full++
		}
		if share > s.Target()+0.2 {
			t.Errorf("seed %d: %.0f%% busy, above its target %.0f%%", seed, share*100, s.Target()*100)
		}
	}
	t.Logf("of %d machines: %d mostly idle, %d mostly full; busy shares in %d deciles", machines, quiet, full, len(shares))
	if quiet < 10 || full < 15 || len(shares) < 6 {
		t.Errorf("fleet does not vary: %d mostly idle, %d mostly full, %d deciles", quiet, full, len(shares))
	}
}

// TestScheduleMovesSlowly: a machine's busy count changes a job at a time,
// minutes apart — not 1 → 8 → 12 within seconds — and jobs end.
func TestScheduleMovesSlowly(t *testing.T) {
	for seed := range uint64(20) {
		s := fakeSchedule(seed, 8)
		prev, changes := busyAt(s, 8, t0), 0
		ended, started := map[int]bool{}, map[int]bool{}
		for at := t0.Add(10 * time.Second); at.Before(t0.Add(6 * time.Hour)); at = at.Add(10 * time.Second) {
			now := busyAt(s, 8, at)
			if d := now - prev; d > 4 || d < -4 {
				t.Errorf("seed %d at %s: busy %d → %d in 10 s", seed, at.Sub(t0), prev, now)
			}
			if now != prev {
				changes++
			}
			prev = now
			for _, j := range s.Running(at) {
				started[j.ID] = true
			}
			for id := range started {
				if j := s.find(id); j == nil || !j.End.After(at) {
					ended[id] = true
				}
			}
		}
		// Six hours at 10 s: 2,160 samples; a lab changes every few minutes.
		if changes > 6*30 {
			t.Errorf("seed %d: busy count changed %d times in 6 hours", seed, changes)
		}
		if s.Target() > 0.3 && (changes < 6 || len(ended) < 3) {
			t.Errorf("seed %d (target %.2f): %d changes, %d jobs ended in 6 hours", seed, s.Target(), changes, len(ended))
		}
	}
}

// TestScheduleJobs: jobs last what their kind lasts, sit on distinct GPUs,
// carry plausible command lines and unique session names, and notebooks
// hold memory long enough for the idle detector (30 minutes by default).
func TestScheduleJobs(t *testing.T) {
	seen := map[Kind]int{}
	for seed := range uint64(30) {
		s := fakeSchedule(seed, 8)
		for at := t0; at.Before(t0.Add(4 * time.Hour)); at = at.Add(30 * time.Second) {
			held := map[int]int{}
			names := map[string]int{}
			for _, j := range s.Running(at) {
				seen[j.Kind]++
				checkJob(t, j)
				for _, g := range j.GPUs {
					if other, ok := held[g]; ok {
						t.Fatalf("seed %d at %s: GPU %d held by jobs %d and %d", seed, at.Sub(t0), g, other, j.ID)
					}
					held[g] = j.ID
				}
				if n := j.Session.Name; n != "" {
					if other, ok := names[n]; ok {
						t.Fatalf("seed %d: session %q used by jobs %d and %d", seed, n, other, j.ID)
					}
					names[n] = j.ID
				}
			}
		}
	}
	for _, k := range []Kind{KindTrain, KindFinetune, KindNotebook, KindServe, KindEval} {
		if seen[k] == 0 {
			t.Errorf("no %s job in 30 machines × 4 hours", k)
		}
	}
}

func checkJob(t *testing.T, j Job) {
	t.Helper()
	ks := kinds[j.Kind]
	if d := j.End.Sub(j.Start); d < ks.minDur || d > ks.maxDur {
		t.Errorf("job %d (%s) lasts %s, want %s–%s", j.ID, j.Kind, d, ks.minDur, ks.maxDur)
	}
	if j.Kind == KindNotebook && j.End.Sub(j.Start) <= 30*time.Minute {
		t.Errorf("notebook %d holds memory only %s", j.ID, j.End.Sub(j.Start))
	}
	for _, g := range j.GPUs {
		if pid := j.PID(g); pid < FakePIDBase {
			t.Errorf("job %d: GPU %d has PID %d", j.ID, g, pid)
		}
	}
	want := map[Kind]string{KindTrain: "python", KindFinetune: "torchrun", KindNotebook: "python", KindServe: "python", KindEval: "python"}[j.Kind]
	if j.Procs[0].Exe != want || j.Procs[0].Argv[0] != want || len(j.Procs[0].Argv) < 3 {
		t.Errorf("job %d (%s): %q %q", j.ID, j.Kind, j.Procs[0].Exe, j.Procs[0].Argv)
	}
	if j.Kind == KindFinetune && (len(j.Procs) != len(j.GPUs)+1 || !slices.Contains([]int{2, 4}, len(j.GPUs))) {
		t.Errorf("torchrun job %d on %v has %d processes", j.ID, j.GPUs, len(j.Procs))
	}
	if j.User != "alice" && j.User != "bob" {
		t.Errorf("job %d: user %q", j.ID, j.User)
	}
}

// TestEndJobFreesGPUs: a job ended early (its process was killed) frees its
// GPUs at once and for good; later jobs may take them.
func TestEndJobFreesGPUs(t *testing.T) {
	s := fakeSchedule(3, 8)
	var victim Job
	at := t0
	for ; victim.ID == 0; at = at.Add(time.Minute) {
		if jobs := s.Running(at); len(jobs) > 0 {
			victim = jobs[0]
		}
	}
	g := victim.GPUs[0]
	s.EndJob(victim.ID, at)
	if j, ok := s.on(g, at); ok && j.ID == victim.ID {
		t.Fatalf("job %d still on GPU %d after it ended", victim.ID, g)
	}
	for later := at; later.Before(victim.End); later = later.Add(time.Minute) {
		if j, ok := s.on(g, later); ok && j.ID == victim.ID {
			t.Fatalf("job %d back on GPU %d at %s", victim.ID, g, later.Sub(at))
		}
	}
	s.EndJob(victim.ID, at.Add(time.Hour)) // a second end changes nothing
	if j := s.find(victim.ID); j != nil && j.End != at {
		t.Errorf("end moved to %s", j.End.Sub(at))
	}
}

// TestLiveSchedule: on a live schedule a job shows only once its processes
// run, and then with their PIDs.
func TestLiveSchedule(t *testing.T) {
	s := newSchedule(5, 8, false, t0, scheduleConfig{live: true})
	due := s.due(t0)
	if len(due) == 0 {
		t.Fatal("no job due at the start")
	}
	if len(s.Running(t0)) != 0 {
		t.Error("jobs show before their processes run")
	}
	if again := s.due(t0); len(again) != 0 {
		t.Errorf("%d jobs handed out twice", len(again))
	}
	j := due[0]
	pids := make([]uint32, len(j.Procs))
	for i := range pids {
		pids[i] = uint32(4000 + i)
	}
	s.MarkLive(j.ID, t0, pids)
	got, ok := s.on(j.GPUs[0], t0)
	if !ok || got.ID != j.ID || got.PID(j.GPUs[0]) == 0 {
		t.Fatalf("live job: %+v %v", got, ok)
	}
	if len(s.Running(t0)) != 1 {
		t.Errorf("%d jobs show, want the live one", len(s.Running(t0)))
	}
}
