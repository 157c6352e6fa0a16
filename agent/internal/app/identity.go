package app

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
)

// machineID reads the host's /etc/machine-id (or D-Bus's copy) below
// hostRoot ("" or "/" for the running system), so an agent in a container
// reports the host it watches, not the container. Without one it derives a
// stable id from the hostname, so the hub can still tell machines apart.
func machineID(hostRoot, hostname string) string {
	if hostRoot == "" {
		hostRoot = "/"
	}
	for _, p := range []string{"etc/machine-id", "var/lib/dbus/machine-id"} {
		if b, err := os.ReadFile(filepath.Join(hostRoot, p)); err == nil {
			if id := strings.TrimSpace(string(b)); id != "" {
				return id
			}
		}
	}
	sum := sha256.Sum256([]byte("gpumon:" + hostname))
	return "h-" + hex.EncodeToString(sum[:12])
}
