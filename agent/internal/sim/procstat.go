package sim

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// procStat is what the simulator reads from /proc/<pid>/stat.
type procStat struct {
	ppid  int
	start uint64 // clock ticks after boot
}

// parseStat reads the parent and start time from the contents of
// /proc/<pid>/stat. The command name may hold spaces and parentheses, so
// fields are counted after the last ')'.
func parseStat(b []byte) (procStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, errors.New("parse stat: no command name")
	}
	// After the name: state ppid pgrp session tty_nr tpgid flags ... starttime.
	f := bytes.Fields(b[i+1:])
	if len(f) < 20 {
		return procStat{}, errors.New("parse stat: too few fields")
	}
	ppid, err := strconv.Atoi(string(f[1]))
	if err != nil {
		return procStat{}, fmt.Errorf("parse stat parent: %w", err)
	}
	start, err := strconv.ParseUint(string(f[19]), 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("parse stat start time: %w", err)
	}
	return procStat{ppid: ppid, start: start}, nil
}

// running reports whether the worker's process still exists (the same
// process: its start time matches).
func (w *worker) running() bool {
	return alive(w.pid) && startTime(w.pid) == w.start
}

// startTime reads the start time of pid (clock ticks after boot), 0 when it
// cannot.
func startTime(pid int) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	st, err := parseStat(b)
	if err != nil {
		return 0
	}
	return st.start
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// SamePIDs reports whether procRoot (a /proc, perhaps the host's mounted in
// a container) numbers processes as this process sees them: its "self" is
// this process's PID. When it does not, the PIDs of processes the simulator
// starts would name other processes there.
func SamePIDs(procRoot string) bool {
	self, err := os.Readlink(filepath.Join(procRoot, "self"))
	return err == nil && self == strconv.Itoa(os.Getpid())
}
