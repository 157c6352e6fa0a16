package sim

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
)

// pfKThread is the task flag of kernel threads (PF_KTHREAD).
const pfKThread = 0x00200000

// procStat is what PickPIDs needs from /proc/<pid>/stat.
type procStat struct {
	pid   uint32
	flags uint64
	start uint64 // clock ticks after boot
	user  bool   // owned by a login user (uid >= 1000)
}

// firstUserUID is where login users' uids start on common distributions.
const firstUserUID = 1000

// PickPIDs chooses up to n PIDs of long-lived user processes under procRoot
// for simulated GPU processes: self first (when it is there), then the
// oldest processes of login users, then the oldest others, PID 1 last.
// The choice depends only on what procRoot holds.
func PickPIDs(procRoot string, self, n int) []uint32 {
	entries, err := os.ReadDir(procRoot)
	if err != nil || n <= 0 {
		return nil
	}
	var all []procStat
	for _, e := range entries {
		pid, err := strconv.ParseUint(e.Name(), 10, 32)
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(procRoot, e.Name(), "stat"))
		if err != nil {
			continue
		}
		st, err := parseStat(b)
		if err != nil || st.flags&pfKThread != 0 {
			continue
		}
		st.pid = uint32(pid)
		st.user = ownerUID(e) >= firstUserUID
		all = append(all, st)
	}
	slices.SortFunc(all, func(a, b procStat) int {
		return cmp.Or(
			rankOf(a, self)-rankOf(b, self),
			cmp.Compare(a.start, b.start),
			cmp.Compare(a.pid, b.pid))
	})
	out := make([]uint32, 0, n)
	for _, st := range all[:min(n, len(all))] {
		out = append(out, st.pid)
	}
	return out
}

// rankOf sorts self first, then users' processes, and PID 1 last.
func rankOf(st procStat, self int) int {
	switch {
	case int(st.pid) == self:
		return 0
	case st.user:
		return 1
	case st.pid == 1:
		return 3
	}
	return 2
}

// ownerUID is the owner of a /proc/<pid> directory, which is the process's
// effective user; 0 when it cannot be told.
func ownerUID(e os.DirEntry) uint32 {
	info, err := e.Info()
	if err != nil {
		return 0
	}
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return st.Uid
	}
	return 0
}

// parseStat reads the flags and start time from the contents of
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
	flags, err := strconv.ParseUint(string(f[6]), 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("parse stat flags: %w", err)
	}
	start, err := strconv.ParseUint(string(f[19]), 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("parse stat start time: %w", err)
	}
	return procStat{flags: flags, start: start}, nil
}
