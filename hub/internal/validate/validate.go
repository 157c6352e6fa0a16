// Package validate checks and cleans reports before the hub stores them.
// Everything a machine reports is untrusted: the hostname must be sane,
// strings are cut to a bound and repaired to valid UTF-8, lists are capped,
// and numbers are finite: a NaN or an infinity in a figure that may be
// unknown makes it unknown, in any other figure it reads 0. (A NaN must not
// reach history: one with the bits of Prometheus's staleness marker would end
// the series.) The report is not refused for it, since an agent replays what
// the hub refuses and would send the same snapshot again.
package validate

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// Limits on what one report may hold. Longer strings are cut, longer lists
// are capped; a bad hostname refuses the report.
const (
	MaxHostnameLen   = 253
	MaxGPUs          = 64
	MaxProcesses     = 20000
	MaxGPUProcesses  = 1024
	MaxContainers    = 2000
	MaxSessions      = 2000
	MaxDisks         = 64
	MaxCmdlineLen    = 4096
	MaxStringLen     = 512
	MaxCollectors    = 32
	MaxMachineIDLen  = 128
	MaxThrottleNames = 32
)

// ErrHostname is wrapped by every hostname error.
var ErrHostname = errors.New("invalid hostname")

// Hostname checks a hostname: 1 to 253 characters of letters, digits, '.',
// '-' and '_', not starting with '.' or '-'.
func Hostname(h string) error {
	switch {
	case h == "":
		return fmt.Errorf("%w: hostname is required and must be a non-empty string", ErrHostname)
	case len(h) > MaxHostnameLen:
		return fmt.Errorf("%w: longer than %d characters", ErrHostname, MaxHostnameLen)
	case h[0] == '.' || h[0] == '-':
		return fmt.Errorf("%w: %q starts with %q", ErrHostname, h, h[0])
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return fmt.Errorf("%w: %q holds %q (letters, digits, '.', '-', '_' only)", ErrHostname, truncate(h, 64), r)
		}
	}
	return nil
}

// Report checks the hostname and cleans r in place.
func Report(r *gpumonv1.Report) error { return report(r, true) }

// RebuiltReport is Report for a report whose processes were rebuilt from a
// process delta out of static facts and figures that Process cleaned as
// they arrived (procdelta.Decoder.Clean): its lists are capped, but its
// processes are not walked again.
func RebuiltReport(r *gpumonv1.Report) error { return report(r, false) }

// Process cleans one process in place, as Report does each of a report's.
func Process(p *gpumonv1.Process) { cleanProcess(p) }

// Figure is a process's figure (CPU %, memory %, RSS) as Process leaves
// it: NaN and infinity become 0.
func Figure(f float64) float64 {
	finite(&f)
	return f
}

func report(r *gpumonv1.Report, processes bool) error {
	if err := Hostname(r.GetHostname()); err != nil {
		return err
	}
	r.MachineId = clean(r.MachineId, MaxMachineIDLen)
	r.AgentVersion = clean(r.AgentVersion, MaxStringLen)
	r.DriverVersion = clean(r.DriverVersion, MaxStringLen)
	r.CudaVersion = clean(r.CudaVersion, MaxStringLen)
	r.GpuData = capList(r.GpuData, MaxGPUs)
	for _, g := range r.GpuData {
		cleanGPU(g, processes)
	}
	r.Collectors = capList(r.Collectors, MaxCollectors)
	for _, c := range r.Collectors {
		c.Name = clean(c.Name, MaxStringLen)
		c.Message = clean(c.Message, MaxStringLen)
		finite(&c.DurationSeconds)
	}
	finite(&r.IntervalSeconds)
	finiteOrUnknown(&r.ClockOffsetSeconds)
	if s := r.SystemInfo; s != nil {
		cleanSystem(s, processes)
	}
	return nil
}

// Inventory repairs and bounds the static facts of an agent's hello in
// place, as Report does a report's: the hub fills them into every report
// after that report was checked.
func Inventory(inv *gpumonv1.Inventory) {
	if inv == nil {
		return
	}
	for _, p := range []*string{&inv.DriverVersion, &inv.CudaVersion, &inv.Os, &inv.Kernel, &inv.CpuModel} {
		*p = clean(*p, MaxStringLen)
	}
	inv.Gpus = capList(inv.Gpus, MaxGPUs)
	for _, g := range inv.Gpus {
		for _, p := range []*string{&g.Uuid, &g.Name, &g.PciBusId} {
			*p = clean(*p, MaxStringLen)
		}
		finiteOrUnknown(&g.PowerLimit)
	}
}

func cleanGPU(g *gpumonv1.Gpu, processes bool) {
	g.Name = clean(g.Name, MaxStringLen)
	g.Uuid = clean(g.Uuid, MaxStringLen)
	g.PciBusId = clean(g.PciBusId, MaxStringLen)
	g.Error = clean(g.Error, MaxStringLen)
	g.ThrottleReasons = capList(g.ThrottleReasons, MaxThrottleNames)
	for i, t := range g.ThrottleReasons {
		g.ThrottleReasons[i] = clean(t, MaxStringLen)
	}
	g.Processes = capList(g.Processes, MaxGPUProcesses)
	if processes {
		for _, p := range g.Processes {
			cleanProcess(p)
		}
	}
	for _, p := range []**float64{&g.PowerDraw, &g.PowerLimit, &g.EnergyConsumption, &g.NvlinkBandwidthTotal} {
		finiteOrUnknown(p)
	}
	if a := g.Activity; a != nil {
		for _, p := range []**float64{&a.Graphics, &a.Sm, &a.SmOccupancy, &a.Tensor, &a.Dram} {
			finiteOrUnknown(p)
		}
	}
}

func cleanSystem(s *gpumonv1.SystemInfo, processes bool) {
	for _, p := range []*float64{&s.CpuPercent, &s.MemoryTotal, &s.MemoryUsed, &s.MemoryPercent, &s.DiskTotal, &s.DiskUsed,
		&s.DiskPercent, &s.SwapTotal, &s.SwapUsed, &s.UptimeSeconds, &s.MemoryAvailable} {
		finite(p)
	}
	if l := s.Load; l != nil {
		finite(&l.Load1)
		finite(&l.Load5)
		finite(&l.Load15)
	}
	for _, p := range []*string{&s.IpAddress, &s.Os, &s.Kernel, &s.CpuModel} {
		*p = clean(*p, MaxStringLen)
	}
	s.Processes = capList(s.Processes, MaxProcesses)
	if processes {
		for _, p := range s.Processes {
			cleanProcess(p)
		}
	}
	s.ScreenSessions = capList(s.ScreenSessions, MaxSessions)
	s.TmuxSessions = capList(s.TmuxSessions, MaxSessions)
	for _, list := range [][]*gpumonv1.TerminalSession{s.ScreenSessions, s.TmuxSessions} {
		for _, t := range list {
			for _, p := range []*string{&t.Pid, &t.Name, &t.Status, &t.User, &t.Kind} {
				*p = clean(*p, MaxStringLen)
			}
		}
	}
	s.DockerContainers = capList(s.DockerContainers, MaxContainers)
	for _, c := range s.DockerContainers {
		for _, p := range []*string{&c.Id, &c.Name, &c.Status, &c.Image, &c.GpuDevices, &c.State} {
			*p = clean(*p, MaxStringLen)
		}
		c.GpuIds = capList(c.GpuIds, MaxGPUs)
		c.GpuPids = capList(c.GpuPids, MaxGPUProcesses)
		finite(&c.MemoryUsage)
		finite(&c.CpuPercent)
		finite(&c.MemoryLimit)
	}
	s.Disks = capList(s.Disks, MaxDisks)
	for _, d := range s.Disks {
		for _, p := range []*string{&d.Mountpoint, &d.Device, &d.Fstype} {
			*p = clean(*p, MaxStringLen)
		}
		finite(&d.Total)
		finite(&d.Used)
		finite(&d.Percent)
	}
}

func cleanProcess(p *gpumonv1.Process) {
	p.Name = clean(p.Name, MaxStringLen)
	p.Cmdline = clean(p.Cmdline, MaxCmdlineLen)
	p.Status = clean(p.Status, MaxStringLen)
	p.Username = clean(p.Username, MaxStringLen)
	p.ContainerId = clean(p.ContainerId, MaxStringLen)
	p.GpuUsageType = clean(p.GpuUsageType, MaxStringLen)
	p.GpuIds = capList(p.GpuIds, MaxGPUs)
	finite(&p.CpuPercent)
	finite(&p.MemoryPercent)
	finite(&p.CreateTime)
	finite(&p.Rss)
	if s := p.Session; s != nil {
		s.Kind = clean(s.Kind, MaxStringLen)
		s.Name = clean(s.Name, MaxStringLen)
		s.User = clean(s.User, MaxStringLen)
	}
}

// finite sets a NaN or infinite figure to 0.
func finite(f *float64) {
	if math.IsNaN(*f) || math.IsInf(*f, 0) {
		*f = 0
	}
}

// finiteOrUnknown makes a NaN or infinite figure that may be unknown unknown.
func finiteOrUnknown(f **float64) {
	if *f != nil && (math.IsNaN(**f) || math.IsInf(**f, 0)) {
		*f = nil
	}
}

func capList[T any](l []T, n int) []T {
	if len(l) > n {
		return l[:n]
	}
	return l
}

// clean repairs invalid UTF-8 and cuts s to at most n bytes on a rune boundary.
func clean(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return truncate(s, n)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
