package process

import (
	"bytes"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"
)

// containerIDLen is the length of the short container id Docker prints.
const containerIDLen = 12

// parseCgroup returns the short (12 character) id of the container a process
// runs in, from the contents of /proc/<pid>/cgroup, or "" when it runs in no
// container. It understands cgroup v1 ("4:memory:/docker/<id>") and v2
// ("0::/system.slice/docker-<id>.scope") paths of Docker, containerd/CRI,
// CRI-O, Podman and Kubernetes (cgroupfs and systemd drivers). Only full
// 64-digit hex ids count, so other hex-named groups are not mistaken for
// containers.
func parseCgroup(b []byte) string {
	for line := range bytes.Lines(b) {
		line = bytes.TrimRight(line, "\n")
		// hierarchy-ID:controller-list:cgroup-path
		_, rest, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		_, path, ok := bytes.Cut(rest, []byte(":"))
		if !ok {
			continue
		}
		if id := containerIDFromPath(string(path)); id != "" {
			return id
		}
	}
	return ""
}

// containerIDFromPath looks for a container id in a cgroup path, deepest
// element first (Docker in Docker: the inner container wins).
func containerIDFromPath(path string) string {
	for path != "" {
		var elem string
		if i := strings.LastIndexByte(path, '/'); i >= 0 {
			path, elem = path[:i], path[i+1:]
		} else {
			path, elem = "", path
		}
		if id := containerIDFromElem(elem); id != "" {
			return id
		}
	}
	return ""
}

func containerIDFromElem(elem string) string {
	elem = strings.TrimSuffix(elem, ".scope")
	if strings.Contains(elem, "conmon") {
		// Podman's monitor process runs next to the container, not in it.
		return ""
	}
	// systemd driver of containerd: "kubepods-...-pod<uid>.slice:cri-containerd:<id>".
	if i := strings.LastIndexByte(elem, ':'); i >= 0 {
		elem = elem[i+1:]
	}
	// Unit-name prefixes runtimes give a container's cgroup.
	for _, p := range [...]string{"docker-", "cri-containerd-", "crio-", "libpod-", "containerd-"} {
		if s, ok := strings.CutPrefix(elem, p); ok {
			elem = s
			break
		}
	}
	if !isContainerID(elem) {
		return ""
	}
	return elem[:containerIDLen]
}

func isContainerID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// users maps uids to user names from a passwd file. It re-reads the file
// when it meets an unknown uid and the file changed since the last read;
// when the file is the running system's own, the name service (LDAP, sssd)
// is asked last. Every answer, a miss included, is kept.
type users struct {
	path    string
	nss     bool
	names   map[uint32]string
	modTime time.Time
	size    int64
}

func newUsers(path string, nss bool) *users {
	return &users{path: path, nss: nss, names: map[uint32]string{}}
}

// name returns the user name of uid, or the uid as a number when no one
// knows it (as ps does).
func (u *users) name(uid uint32) string {
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

func (u *users) reload() {
	fi, err := os.Stat(u.path)
	if err != nil || (fi.ModTime().Equal(u.modTime) && fi.Size() == u.size) {
		return
	}
	b, err := os.ReadFile(u.path)
	if err != nil {
		return
	}
	u.modTime, u.size = fi.ModTime(), fi.Size()
	u.names = parsePasswd(b)
}

// parsePasswd parses an /etc/passwd file into uid → name. The first entry
// for a uid wins, as getpwuid does.
func parsePasswd(b []byte) map[uint32]string {
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
