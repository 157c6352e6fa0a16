package screen

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// screenSessions reads every S-<user> directory under the screen socket
// directories. ok is false when none of those directories exists.
func (c *Collector) screenSessions() (sessions []*gpumonv1.TerminalSession, ok bool) {
	sessions = []*gpumonv1.TerminalSession{}
	seen := make(map[string]bool)
	for _, dir := range c.screenDirs {
		real, err := filepath.EvalSymlinks(dir)
		if err != nil {
			continue
		}
		ok = true
		if seen[real] { // /var/run is usually a link to /run
			continue
		}
		seen[real] = true
		userDirs, err := os.ReadDir(dir)
		if err != nil {
			c.log.Debug("read screen directory", "dir", dir, "err", err)
			continue
		}
		for _, ud := range userDirs {
			sessions = append(sessions, c.userSessions(filepath.Join(dir, ud.Name()))...)
		}
	}
	slices.SortFunc(sessions, func(a, b *gpumonv1.TerminalSession) int {
		return strings.Compare(a.User+"\x00"+a.Name, b.User+"\x00"+b.Name)
	})
	return sessions, ok
}

// userSessions reads one S-<user> directory.
func (c *Collector) userSessions(dir string) []*gpumonv1.TerminalSession {
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return nil
	}
	user, ok := strings.CutPrefix(filepath.Base(dir), "S-")
	if !ok {
		return nil
	}
	if user == "" {
		user = c.users.Name(ownerUID(fi))
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		c.log.Debug("read screen directory", "dir", dir, "err", err)
		return nil
	}
	var out []*gpumonv1.TerminalSession
	for _, e := range entries {
		pid, name, ok := parseSocketName(e.Name())
		if !ok || !c.alive(pid) {
			continue // not a session, or a dead one screen -wipe would remove
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, session("screen", pid, name, screenStatus(info.Mode()), user, 0))
	}
	return out
}

// parseSocketName splits a screen socket name "<pid>.<name>" into its pid
// and the full session name, dots included ("1234.train.v2" → 1234,
// "train.v2").
func parseSocketName(s string) (pid int, name string, ok bool) {
	p, name, found := strings.Cut(s, ".")
	if !found || name == "" {
		return 0, "", false
	}
	pid, err := strconv.Atoi(p)
	if err != nil || pid <= 0 {
		return 0, "", false
	}
	return pid, strings.ToValidUTF8(name, "\uFFFD"), true
}

// screenStatus reads a session's state from its socket's mode, as screen
// itself does: group or other execute bits mark a multiuser session, the
// owner's execute bit an attached one.
func screenStatus(mode fs.FileMode) string {
	switch perm := mode.Perm(); {
	case perm&0o011 != 0:
		return "Multi"
	case perm&0o100 != 0:
		return "Attached"
	default:
		return "Detached"
	}
}

// ownerUID returns the uid owning a file, or 0 when unknown.
func ownerUID(fi fs.FileInfo) uint32 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Uid
	}
	return 0
}
