// Package passwd maps uids to user names from a host's passwd file, the way
// ps and screen -ls name the owners of processes and sessions.
package passwd

import (
	"bytes"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"
)

// Users maps uids to user names from a passwd file. It re-reads the file
// when it meets an unknown uid and the file changed since the last read;
// when the file is the running system's own, the name service (LDAP, sssd)
// is asked last. Every answer, a miss included, is kept. A Users is not safe
// for concurrent use: each collector keeps its own.
type Users struct {
	path    string
	nss     bool
	names   map[uint32]string
	modTime time.Time
	size    int64
}

// NewUsers reads names from the passwd file at path; nss says whether the
// name service may be asked for uids the file lacks (only right when path is
// the running system's own /etc/passwd).
func NewUsers(path string, nss bool) *Users {
	return &Users{path: path, nss: nss, names: map[uint32]string{}}
}

// Name returns the user name of uid, or the uid as a number when no one
// knows it (as ps does).
func (u *Users) Name(uid uint32) string {
	if n, ok := u.names[uid]; ok {
		return n
	}
	u.reload()
	if n, ok := u.names[uid]; ok {
		return n
	}
	n := strconv.FormatUint(uint64(uid), 10)
	if u.nss {
		if usr, err := user.LookupId(n); err == nil && usr.Username != "" {
			n = strings.ToValidUTF8(usr.Username, "?")
		}
	}
	u.names[uid] = n
	return n
}

func (u *Users) reload() {
	fi, err := os.Stat(u.path)
	if err != nil || (fi.ModTime().Equal(u.modTime) && fi.Size() == u.size) {
		return
	}
	b, err := os.ReadFile(u.path)
	if err != nil {
		return
	}
	u.modTime, u.size = fi.ModTime(), fi.Size()
	u.names = Parse(b)
}

// Parse parses an /etc/passwd file into uid → name. Comment lines and lines
// without a name or a numeric uid are skipped; the first entry for a uid
// wins, as getpwuid does. Names that are not UTF-8 are made so.
func Parse(b []byte) map[uint32]string {
	m := make(map[uint32]string)
	for line := range bytes.Lines(b) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		// name:password:uid:gid:gecos:home:shell
		parts := strings.SplitN(string(line), ":", 4)
		if len(parts) < 4 || parts[0] == "" {
			continue
		}
		uid, err := strconv.ParseUint(parts[2], 10, 32)
		if err != nil {
			continue
		}
		if _, dup := m[uint32(uid)]; !dup {
			m[uint32(uid)] = strings.ToValidUTF8(parts[0], "?")
		}
	}
	return m
}
