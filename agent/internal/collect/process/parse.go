package process

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// statFields are the parts of /proc/<pid>/stat the collector uses.
type statFields struct {
	PID  int32
	Comm []byte // aliases the input
	// State is the one-letter state ('R', 'S', 'D', ...).
	State byte
	PPID  int32
	// UTime and STime are in clock ticks.
	UTime, STime uint64
	// StartTime is in clock ticks after boot.
	StartTime uint64
	// RSS is in pages.
	RSS uint64
}

var errShortStat = errors.New("short stat line")

// parseStat parses one /proc/<pid>/stat line without allocating. The command
// name may itself contain spaces and parentheses, so it is taken between the
// first '(' and the last ')'.
func parseStat(b []byte) (statFields, error) {
	var f statFields
	open := bytes.IndexByte(b, '(')
	closing := bytes.LastIndexByte(b, ')')
	if open < 1 || closing < open || closing+2 >= len(b) {
		return f, errShortStat
	}
	pid, ok := parseUint(bytes.TrimSpace(b[:open]))
	if !ok {
		return f, fmt.Errorf("bad pid %q", b[:open])
	}
	f.PID = int32(pid)
	f.Comm = b[open+1 : closing]
	rest := b[closing+2:]
	// Fields after the name, counted from 0: state, ppid, ..., utime (11),
	// stime (12), starttime (19), rss (21).
	for i := 0; i <= 21; i++ {
		sp := bytes.IndexByte(rest, ' ')
		var field []byte
		if sp < 0 {
			field, rest = bytes.TrimSpace(rest), nil
		} else {
			field, rest = rest[:sp], rest[sp+1:]
		}
		if len(field) == 0 {
			return f, errShortStat
		}
		if err := f.set(i, field); err != nil {
			return f, err
		}
		if rest == nil && i < 21 {
			return f, errShortStat
		}
	}
	return f, nil
}

func (f *statFields) set(i int, field []byte) error {
	switch i {
	case 0:
		f.State = field[0]
		return nil
	case 1, 11, 12, 19, 21:
	default:
		return nil
	}
	v, ok := parseUint(field)
	if !ok {
		// rss may be negative in odd kernels; treat as zero.
		if i == 21 && field[0] == '-' {
			return nil
		}
		return fmt.Errorf("bad stat field %d %q", i+3, field)
	}
	switch i {
	case 1:
		f.PPID = int32(v)
	case 11:
		f.UTime = v
	case 12:
		f.STime = v
	case 19:
		f.StartTime = v
	case 21:
		f.RSS = v
	}
	return nil
}

// parseUint parses a decimal number without allocating.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, true
}

// statusWord turns a stat state letter into the word psutil uses.
func statusWord(c byte) string {
	switch c {
	case 'R':
		return "running"
	case 'S':
		return "sleeping"
	case 'D':
		return "disk-sleep"
	case 'Z':
		return "zombie"
	case 'T':
		return "stopped"
	case 't':
		return "tracing-stop"
	case 'X', 'x':
		return "dead"
	case 'I':
		return "idle"
	case 'K':
		return "wake-kill"
	case 'W':
		return "waking"
	case 'P':
		return "parked"
	default:
		return "unknown"
	}
}

// parseStatusUID returns the real uid from /proc/<pid>/status.
func parseStatusUID(b []byte) (uint32, error) {
	for line := range bytes.Lines(b) {
		rest, ok := bytes.CutPrefix(line, []byte("Uid:"))
		if !ok {
			continue
		}
		fields := bytes.Fields(rest)
		if len(fields) == 0 {
			break
		}
		v, err := strconv.ParseUint(string(fields[0]), 10, 32)
		if err != nil {
			return 0, fmt.Errorf("bad uid %q: %w", fields[0], err)
		}
		return uint32(v), nil
	}
	return 0, errors.New("no Uid line")
}

// parseCmdline turns NUL-separated arguments into one line joined with
// spaces, cut to at most max bytes (on a rune boundary) and valid UTF-8.
func parseCmdline(b []byte, max int) string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) > max {
		b = b[:max] // only a bound on the work; the exact cut is below
	}
	s := strings.ToValidUTF8(strings.ReplaceAll(string(b), "\x00", " "), "\uFFFD")
	if len(s) > max {
		// Repairs can lengthen the text; cut again on a rune boundary.
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

// procName is psutil's process name: the kernel's name (cut to 15 bytes)
// extended from the first argument when that starts with it.
func procName(comm string, cmdline string) string {
	if len(comm) < 15 || cmdline == "" {
		return comm
	}
	arg0, _, _ := strings.Cut(cmdline, " ")
	if i := strings.LastIndexByte(arg0, '/'); i >= 0 {
		arg0 = arg0[i+1:]
	}
	if strings.HasPrefix(arg0, comm) {
		return arg0
	}
	return comm
}

// parseMemTotal returns MemTotal in bytes from /proc/meminfo.
func parseMemTotal(b []byte) (uint64, error) {
	for line := range bytes.Lines(b) {
		rest, ok := bytes.CutPrefix(line, []byte("MemTotal:"))
		if !ok {
			continue
		}
		fields := bytes.Fields(rest)
		if len(fields) == 0 {
			break
		}
		v, ok := parseUint(fields[0])
		if !ok {
			return 0, fmt.Errorf("bad MemTotal %q", fields[0])
		}
		return v * 1024, nil
	}
	return 0, errors.New("no MemTotal line")
}

// parseBootTime returns btime (epoch seconds) from /proc/stat.
func parseBootTime(b []byte) (uint64, error) {
	for line := range bytes.Lines(b) {
		rest, ok := bytes.CutPrefix(line, []byte("btime "))
		if !ok {
			continue
		}
		v, ok := parseUint(bytes.TrimSpace(rest))
		if !ok {
			return 0, fmt.Errorf("bad btime %q", rest)
		}
		return v, nil
	}
	return 0, errors.New("no btime line")
}
