package loadgen

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gpumon/gpumon/agent/internal/sim"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// Sampler is one simulated machine. Every report it sends is built here,
// in Sample, from two parts: a template of what does not move (system
// facts, background processes, a container) and the machine's simulated
// jobs and GPU figures (package sim, the same jobs an agent with
// --simulate runs as processes).
type Sampler struct {
	template *gpumonv1.Report
	lab      *sim.Lab
	rng      *rand.Rand
	now      func() time.Time
}

// NewSampler returns the sampler of one simulated machine, drawn from p by
// seed: the same seed gives the same machine running the same jobs at the
// same times after the start.
func NewSampler(p Profile, seed uint64) *Sampler {
	return newSampler(p, seed, time.Now)
}

func newSampler(p Profile, seed uint64, now func() time.Time) *Sampler {
	m := p.pick(seed)
	lab, err := sim.NewLab(m.Sim, sim.WithSeed(seed), sim.WithClock(now), sim.WithFakePIDs(), sim.WithUsers(users...))
	if err != nil {
		panic("loadgen: profile names an unknown machine: " + err.Error()) // a programming error in Profiles
	}
	return &Sampler{template: template(m.Processes, seed), lab: lab, rng: rand.New(rand.NewPCG(seed, 7)), now: now}
}

// Sample implements stream.Sampler. It copies the template field by field
// (proto.Clone goes through reflection and costs more than the rest of a
// snapshot's trip), sharing the parts that never change, and adds the jobs
// running now.
func (s *Sampler) Sample(context.Context) *gpumonv1.Report {
	now := s.now()
	ts := s.template.GetSystemInfo()
	jobs := s.lab.Jobs(now)
	slab := make([]gpumonv1.Process, len(ts.GetProcesses()))
	procs := make([]*gpumonv1.Process, len(slab), len(slab)+4*len(jobs))
	for i, src := range ts.GetProcesses() {
		p := &slab[i]
		copyProcess(p, src)
		p.CpuPercent = 100 * s.rng.Float64()
		procs[i] = p
	}
	sys := &gpumonv1.SystemInfo{
		CpuPercent: 20 + 60*s.rng.Float64(), MemoryTotal: ts.MemoryTotal, MemoryUsed: ts.MemoryUsed,
		MemoryPercent: ts.MemoryPercent, DiskTotal: ts.DiskTotal, DiskUsed: ts.DiskUsed, DiskPercent: ts.DiskPercent,
		IpAddress: ts.IpAddress, Os: ts.Os, Kernel: ts.Kernel, CpuModel: ts.CpuModel, CpuCores: ts.CpuCores,
		Load: ts.Load, DockerContainers: ts.DockerContainers,
	}
	byPID := map[uint32]*gpumonv1.Process{}
	for _, j := range jobs {
		procs = s.addJob(sys, procs, byPID, j)
	}
	sys.Processes = procs
	return &gpumonv1.Report{Timestamp: timestamppb.New(now), SystemInfo: sys, GpuData: s.gpus(now, byPID)}
}

// addJob appends job j's processes (and its screen server) to procs, lists
// its session, and records its processes by PID.
func (s *Sampler) addJob(sys *gpumonv1.SystemInfo, procs []*gpumonv1.Process, byPID map[uint32]*gpumonv1.Process, j sim.Job) []*gpumonv1.Process {
	user := j.User
	if j.Kind == sim.KindDisplay {
		user = "root"
	}
	var ref *gpumonv1.SessionRef
	parent := int32(1)
	if j.Session.Kind != "" {
		ref = &gpumonv1.SessionRef{Kind: j.Session.Kind, Name: j.Session.Name, User: user}
		server := int32(j.PIDs[0]) + 7 // PIDs of a job's processes leave room for it
		parent = server
		ts := &gpumonv1.TerminalSession{Pid: strconv.Itoa(int(server)), Name: j.Session.Name, Status: "Detached", User: user, Kind: j.Session.Kind}
		if j.Session.Kind == "tmux" {
			sys.TmuxSessions = append(sys.TmuxSessions, ts)
			procs = append(procs, &gpumonv1.Process{Pid: server, Ppid: 1, Name: "tmux: server", Cmdline: "tmux new -s " + j.Session.Name,
				Username: user, Status: "sleeping", CreateTime: float64(j.Start.Unix()), Session: ref})
		} else {
			sys.ScreenSessions = append(sys.ScreenSessions, ts)
			procs = append(procs, &gpumonv1.Process{Pid: server, Ppid: 1, Name: "screen", Cmdline: "SCREEN -dmS " + j.Session.Name + " " + strings.Join(j.Procs[0].Argv, " "),
				Username: user, Status: "sleeping", CreateTime: float64(j.Start.Unix()), Session: ref})
		}
	}
	for i, p := range j.Procs {
		pp := parent
		if p.Parent >= 0 {
			pp = int32(j.PIDs[p.Parent])
		}
		proc := &gpumonv1.Process{
			Pid: int32(j.PIDs[i]), Ppid: pp, Name: p.Exe, Cmdline: strings.Join(p.Argv, " "), Username: user,
			Status: "sleeping", CreateTime: float64(j.Start.Unix()), Session: ref,
			MemoryPercent: 0.5 + s.rng.Float64(), Rss: float64(2<<30 + s.rng.IntN(6<<30)),
		}
		switch {
		case p.GPU < 0:
		case j.Kind == sim.KindTrain || j.Kind == sim.KindFinetune || j.Kind == sim.KindEval:
			proc.Status, proc.CpuPercent = "running", 95+10*s.rng.Float64() // feeding the GPU
		case j.Kind == sim.KindServe:
			proc.CpuPercent = 10 + 30*s.rng.Float64()
		}
		byPID[j.PIDs[i]] = proc
		procs = append(procs, proc)
	}
	return procs
}

// gpus reads every GPU at now and joins its processes with the table's.
func (s *Sampler) gpus(now time.Time, byPID map[uint32]*gpumonv1.Process) []*gpumonv1.Gpu {
	infos := s.lab.GPUs()
	gpus := make([]gpumonv1.Gpu, len(infos))
	out := make([]*gpumonv1.Gpu, len(infos))
	for i, info := range infos {
		r := s.lab.Read(i, now)
		g := &gpus[i]
		g.Id, g.Name, g.Uuid, g.MemoryTotal = int32(i), info.Name, info.UUID, uint32(info.MemoryMiB)
		g.PowerLimit, g.PowerDraw = proto.Float64(info.PowerLimitW), proto.Float64(r.PowerW)
		g.Utilization, g.Temperature, g.MemoryUsed = r.Utilization, proto.Uint32(r.Temperature), uint32(r.MemoryMiB)
		g.MemoryFree = proto.Uint32(uint32(info.MemoryMiB - r.MemoryMiB))
		for _, rp := range r.Processes {
			p := byPID[rp.PID]
			if p == nil {
				continue
			}
			p.IsGpuProcess, p.GpuMemoryUsage, p.GpuId = true, uint32(rp.MemoryMiB), proto.Int32(int32(i))
			p.GpuIds = append(p.GpuIds, int32(i))
			p.GpuUsageType = "compute"
			if rp.Graphics {
				p.GpuUsageType = "graphics"
			} else if r.Utilization != nil {
				p.SmUtilization = proto.Uint32(rp.SM)
			}
			g.Processes = append(g.Processes, p)
		}
		out[i] = g
	}
	return out
}

// copyProcess sets every field of dst from src. Slices and sub-messages are
// shared: nothing downstream modifies them.
func copyProcess(dst, src *gpumonv1.Process) {
	dst.Pid, dst.Name, dst.Cmdline = src.Pid, src.Name, src.Cmdline
	dst.CpuPercent, dst.MemoryPercent, dst.CreateTime = src.CpuPercent, src.MemoryPercent, src.CreateTime
	dst.Status, dst.Username, dst.IsGpuProcess = src.Status, src.Username, src.IsGpuProcess
	dst.GpuMemoryUsage, dst.GpuId, dst.Ppid, dst.Rss = src.GpuMemoryUsage, src.GpuId, src.Ppid, src.Rss
	dst.GpuIds, dst.ContainerId, dst.Session = src.GpuIds, src.ContainerId, src.Session
	dst.SmUtilization, dst.GpuUsageType = src.SmUtilization, src.GpuUsageType
}
