package sim

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"
)

// warmup is how far before its start a schedule begins, so that a machine
// starts in the middle of a working day: some jobs hours old, some new.
const warmup = 6 * time.Hour

// keepEnded is how long ended jobs stay for lookups of past moments
// (temperature follows the load of the last two minutes).
const keepEnded = 10 * time.Minute

// Schedule decides which jobs run on a machine's GPUs and when. It is
// seeded (same seed and start: same jobs at the same offsets from start)
// and lazy: jobs are drawn as time reaches them, so a job that ends early
// (its process was killed) frees its GPUs for the jobs drawn after it.
//
// Each machine has a temperament drawn from its seed: a share of GPUs its
// users try to keep busy. Every few minutes someone tries to start a job;
// it starts when the machine is below that share and has enough free GPUs.
// So some machines sit mostly idle, some are full, and busy counts move one
// job at a time over minutes.
type Schedule struct {
	mu sync.Mutex
	// n is the number of GPUs; display puts an X server on GPU 0.
	n       int
	display bool
	seed    uint64
	rng     *rand.Rand
	// target is the share of GPUs the machine's users keep busy.
	target float64
	// next is the time of the next start attempt: everything before it is
	// drawn.
	next time.Time
	// start anchors the warm-up; live says jobs show only once
	// their processes run (MarkLive), as with real workers.
	start    time.Time
	live     bool
	fakePIDs bool
	seq      int
	jobs     []*Job
	users    []string
	home     func(user string) string
}

// scheduleConfig sets what differs between the agent's simulator and the
// load generator.
type scheduleConfig struct {
	// live: a job shows only after MarkLive (its processes run).
	live bool
	// fakePIDs gives jobs made-up PIDs when they are drawn.
	fakePIDs bool
	// users to draw job owners from; none leaves User empty.
	users []string
	// home returns a user's home directory for command lines.
	home func(user string) string
}

func newSchedule(seed uint64, n int, display bool, start time.Time, cfg scheduleConfig) *Schedule {
	s := &Schedule{
		n: n, display: display, seed: seed, start: start, live: cfg.live, fakePIDs: cfg.fakePIDs,
		rng:   rand.New(rand.NewPCG(seed, h(seed, saltSchedule))),
		users: cfg.users, home: cfg.home,
		next: start.Add(-warmup),
	}
	if s.home == nil {
		s.home = func(string) string { return "/root" }
	}
	s.target = temperament(unit(h(seed, saltTemper)))
	if display {
		s.addDisplay()
	}
	return s
}

// temperament maps u in [0, 1) to the share of GPUs a machine's users keep
// busy: a fifth of machines are quiet, a third are full, the rest between.
func temperament(u float64) float64 {
	switch {
	case u < 0.2:
		return 0.1 + 0.5*u // 0.10–0.20
	case u < 0.67:
		return 0.35 + 0.4*(u-0.2)/0.47 // 0.35–0.75
	}
	return 0.85 + 0.15*(u-0.67)/0.33 // 0.85–1.00
}

// Target is the share of GPUs the machine's users try to keep busy.
func (s *Schedule) Target() float64 { return s.target }

// advance draws every start attempt up to t.
func (s *Schedule) advance(t time.Time) {
	if s.next.After(t) {
		return
	}
	for !s.next.After(t) {
		at := s.next
		s.attempt(at)
		gap := time.Duration(s.rng.ExpFloat64() * float64(meanAttemptGap))
		s.next = at.Add(min(max(gap, 20*time.Second), 15*time.Minute))
	}
	s.prune(t)
}

// meanAttemptGap is the mean time between two tries to start a job.
const meanAttemptGap = 150 * time.Second

// attempt tries to start one job at t.
func (s *Schedule) attempt(t time.Time) {
	kind := pickKind(s.rng.Float64())
	k := 1
	if kind == KindFinetune {
		k = 2 << s.rng.IntN(2) // 2 or 4 GPUs
	}
	free := s.freeAt(t)
	busy := s.n - len(free)
	limit := int(math.Ceil(s.target * float64(s.n)))
	if s.rng.Float64() < 0.1 && s.target > 0.3 {
		limit++ // now and then someone squeezes in
	}
	if kind == KindFinetune && k > len(free) {
		k = 2
	}
	if len(free) < k || busy+k > limit {
		return
	}
	s.rng.Shuffle(len(free), func(i, j int) { free[i], free[j] = free[j], free[i] })
	gpus := free[:k]
	slices.Sort(gpus)
	s.seq++
	j := newJob(s.seq, kind, gpus, t, s.rng, s.users, s.home)
	j.Session.Name = s.uniqueSession(j.Session.Name, t)
	s.add(j)
}

// add appends a drawn job, with made-up PIDs where the schedule gives them.
func (s *Schedule) add(j *Job) {
	j.PIDs = make([]uint32, len(j.Procs))
	if s.fakePIDs {
		for i := range j.PIDs {
			j.PIDs[i] = FakePIDBase + uint32(j.ID*8+i)
		}
	}
	s.jobs = append(s.jobs, j)
}

// freeAt lists the GPUs no job (but the display) holds at t.
func (s *Schedule) freeAt(t time.Time) []int {
	held := make([]bool, s.n)
	for _, j := range s.jobs {
		if j.Kind != KindDisplay && j.runningAt(t) {
			for _, g := range j.GPUs {
				held[g] = true
			}
		}
	}
	var free []int
	for g, h := range held {
		if !h {
			free = append(free, g)
		}
	}
	return free
}

// uniqueSession returns base, or base-2, base-3, … when a job running at t
// already uses that session name.
func (s *Schedule) uniqueSession(base string, t time.Time) string {
	if base == "" {
		return ""
	}
	name := base
	for i := 2; slices.ContainsFunc(s.jobs, func(j *Job) bool { return j.runningAt(t) && j.Session.Name == name }); i++ {
		name = base + "-" + strconv.Itoa(i)
	}
	return name
}

// addDisplay starts the X server that a workstation runs on GPU 0 for as
// long as the machine runs.
func (s *Schedule) addDisplay() {
	s.seq++
	j := &Job{
		ID: s.seq, Kind: KindDisplay, GPUs: []int{0}, Start: s.start.Add(-warmup), End: farFuture,
		MemFrac: 0, Procs: []Proc{{Exe: "Xorg", Argv: xorgArgv, GPU: 0, Parent: -1}},
	}
	s.add(j)
}

var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// prune drops jobs that ended well before t.
func (s *Schedule) prune(t time.Time) {
	s.jobs = slices.DeleteFunc(s.jobs, func(j *Job) bool { return j.End.Before(t.Add(-keepEnded)) })
}

// pick advances the schedule to t and returns copies of the jobs keep
// selects, oldest first.
func (s *Schedule) pick(t time.Time, keep func(j *Job) bool) []Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(t)
	var out []Job
	for _, j := range s.jobs {
		if keep(j) {
			out = append(out, *j)
		}
	}
	return out
}

// on returns a copy of the job on GPU g at t, if any. Jobs that are not yet
// live (live schedules) are left out, and so is the display server. The
// figures ask this many times per sample, so it allocates nothing.
func (s *Schedule) on(g int, t time.Time) (Job, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(t)
	for _, j := range s.jobs {
		if slices.Contains(j.GPUs, g) && j.Kind != KindDisplay && j.visibleAt(t, s.live) {
			return *j, true
		}
	}
	return Job{}, false
}

// displayJob returns the display server's job when it is visible at t.
func (s *Schedule) displayJob(t time.Time) (Job, bool) {
	jobs := s.pick(t, func(j *Job) bool { return j.Kind == KindDisplay && j.visibleAt(t, s.live) })
	if len(jobs) == 0 {
		return Job{}, false
	}
	return jobs[0], true
}

// Running returns copies of the jobs visible at t, oldest first.
func (s *Schedule) Running(t time.Time) []Job {
	return s.pick(t, func(j *Job) bool { return j.visibleAt(t, s.live) })
}

// due returns copies of the jobs that should run at t but have not been
// handed out yet, and marks them handed out (the simulator starts their
// processes).
func (s *Schedule) due(t time.Time) []Job {
	return s.pick(t, func(j *Job) bool {
		if j.launched || j.ended || !j.runningAt(t) {
			return false
		}
		j.launched = true
		return true
	})
}

// MarkLive records that job id's processes run, with these PIDs (one per
// process, in Procs order): from now on the job shows.
func (s *Schedule) MarkLive(id int, at time.Time, pids []uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if j := s.find(id); j != nil && !j.ended {
		j.PIDs = slices.Clone(pids)
		j.Live = at
	}
}

// EndJob ends job id at t (its process exited or was killed) unless it has
// ended already; its GPUs are free from t on.
func (s *Schedule) EndJob(id int, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if j := s.find(id); j != nil && !j.ended {
		j.ended = true
		if t.Before(j.End) {
			j.End = t
		}
	}
}

func (s *Schedule) find(id int) *Job {
	for _, j := range s.jobs {
		if j.ID == id {
			return j
		}
	}
	return nil
}
