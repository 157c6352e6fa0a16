package process

import (
	"bytes"
	"strings"
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
