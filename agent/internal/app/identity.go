package app

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
)

// machineID reads /etc/machine-id (or D-Bus's copy). Without one it derives a
// stable id from the hostname, so the hub can still tell machines apart.
func machineID(hostname string) string {
	for _, p := range []string{"/etc/machine-id", "/var/lib/dbus/machine-id"} {
		if b, err := os.ReadFile(p); err == nil {
			if id := strings.TrimSpace(string(b)); id != "" {
				return id
			}
		}
	}
	sum := sha256.Sum256([]byte("gpumon:" + hostname))
	return "h-" + hex.EncodeToString(sum[:12])
}
