package process

import (
	"fmt"
	"strings"
	"time"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// role marks the processes a terminal-session lookup stops at.
type role uint8

const (
	roleNone role = iota
	roleScreen
	roleTmux
)

// entry is what the collector keeps about one process between scans.
type entry struct {
	pid      int32
	start    uint64 // clock ticks after boot: (pid, start) names the process
	statPath string
	comm     string

	// Read once, when the process is first seen.
	name, cmdline, user, container string
	createTime                     float64
	role                           role

	session     *session
	sessionDone bool

	// Updated every scan.
	ppid     int32
	state    byte
	rss      uint64 // bytes
	cpu      float64
	ticks    uint64 // utime+stime at the last scan
	lastSeen time.Time
	seen     uint64
}

// sample reads pid's stat file and returns its updated entry.
func (c *Collector) sample(pid int32, now time.Time) (*entry, error) {
	old := c.procs[pid]
	path := ""
	if old != nil {
		path = old.statPath
	} else {
		path = c.pidPath(pid, "stat")
	}
	b, err := readInto(path, c.statBuf)
	if err != nil {
		return nil, fmt.Errorf("read stat of pid %d: %w", pid, err)
	}
	f, err := parseStat(b)
	if err != nil {
		return nil, fmt.Errorf("parse stat of pid %d: %w", pid, err)
	}
	e := old
	if e == nil || e.start != f.StartTime || e.comm != string(f.Comm) {
		// A new process, or the same one after an exec: read its facts.
		if e, err = c.newEntry(pid, path, f); err != nil {
			return nil, err
		}
		if old != nil && old.start == f.StartTime {
			e.ticks, e.lastSeen = old.ticks, old.lastSeen
		}
		c.procs[pid] = e
	}
	c.update(e, f, now)
	return e, nil
}

// update takes the figures that change from a fresh stat.
func (c *Collector) update(e *entry, f statFields, now time.Time) {
	ticks := f.UTime + f.STime
	switch {
	case !e.lastSeen.IsZero():
		e.cpu = cpuPercent(ticks-min(ticks, e.ticks), now.Sub(e.lastSeen))
	case !c.last.IsZero() && e.createTime >= float64(c.last.Unix()-1):
		// Started since the previous scan: all its CPU time is in this interval.
		e.cpu = cpuPercent(ticks, now.Sub(c.last))
	default:
		e.cpu = 0
	}
	e.ticks, e.lastSeen = ticks, now
	e.ppid, e.state = f.PPID, f.State
	e.rss = f.RSS * c.pageSize
	e.seen = c.gen
}

// cpuPercent is the share of one core that ticks of CPU time make of d.
func cpuPercent(ticks uint64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(ticks) / clockTicks / d.Seconds() * 100
}

// newEntry reads what does not change over a process's life.
func (c *Collector) newEntry(pid int32, statPath string, f statFields) (*entry, error) {
	e := &entry{
		pid:        pid,
		start:      f.StartTime,
		statPath:   statPath,
		comm:       string(f.Comm),
		createTime: float64(c.bootAt) + float64(f.StartTime)/clockTicks,
	}
	b, err := readInto(c.pidPath(pid, "cmdline"), c.bigBuf[:maxCmdline+1])
	if err != nil && gone(err) {
		return nil, fmt.Errorf("read cmdline of pid %d: %w", pid, err)
	}
	// Every reader of the API sees command lines: secrets never leave.
	e.cmdline = c.redact.Cmdline(parseCmdline(b, maxCmdline))
	e.name = procName(strings.ToValidUTF8(e.comm, "\uFFFD"), e.cmdline)
	if b, err = readInto(c.pidPath(pid, "status"), c.bigBuf); err == nil {
		if uid, err := parseStatusUID(b); err == nil {
			e.user = c.users.Name(uid)
		}
	} else if gone(err) {
		return nil, fmt.Errorf("read status of pid %d: %w", pid, err)
	}
	if b, err = readInto(c.pidPath(pid, "cgroup"), c.bigBuf); err == nil {
		e.container = parseCgroup(b)
	}
	e.role = c.roleOf(e)
	return e, nil
}

// fill writes the entry into a report process.
func (e *entry) fill(p *gpumonv1.Process, memTotal uint64) {
	p.Pid = e.pid
	p.Ppid = e.ppid
	p.Name = e.name
	p.Cmdline = e.cmdline
	p.CpuPercent = e.cpu
	if memTotal > 0 {
		p.MemoryPercent = float64(e.rss) / float64(memTotal) * 100
	}
	p.Rss = float64(e.rss)
	p.CreateTime = e.createTime
	p.Status = statusWord(e.state)
	p.Username = e.user
	p.ContainerId = e.container
}
