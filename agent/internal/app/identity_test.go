package app

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestMachineIDUnderHostRoot(t *testing.T) {
	derived := machineID(t.TempDir(), "gpu-01")
	tests := []struct {
		name  string
		files map[string]string // path below the fake root → contents
		want  string
	}{
		{"etc/machine-id of the host root", map[string]string{"etc/machine-id": "0123456789abcdef0123456789abcdef\n"}, "0123456789abcdef0123456789abcdef"},
		{"D-Bus's copy when etc has none", map[string]string{"var/lib/dbus/machine-id": "fedcba9876543210\n"}, "fedcba9876543210"},
		{"etc wins over D-Bus", map[string]string{"etc/machine-id": "etc-id", "var/lib/dbus/machine-id": "dbus-id"}, "etc-id"},
		{"a blank file falls through", map[string]string{"etc/machine-id": " \n", "var/lib/dbus/machine-id": "dbus-id"}, "dbus-id"},
		{"none: derived from the hostname", nil, derived},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for p, body := range tt.files {
				if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(root, p), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got := machineID(root, "gpu-01"); got != tt.want {
				t.Errorf("machineID(%q) = %q, want %q", root, got, tt.want)
			}
		})
	}
	if derived == machineID(t.TempDir(), "gpu-02") || len(derived) != len("h-")+24 {
		t.Errorf("derived ids: %q should be h- and 24 hex digits, and differ between hostnames", derived)
	}
}

// TestOnceReportsHostRootMachineID runs the agent as a container would, with
// the host's filesystem below --host-root: the report names the host's
// machine id, not the one of the system the test runs on.
func TestOnceReportsHostRootMachineID(t *testing.T) {
	root := t.TempDir()
	const id = "5e1f0c0ffee0000000000000000c0de5"
	for _, d := range []string{"etc", "proc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "machine-id"), []byte(id+"\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c := Config{Once: true, JSON: true, HostRoot: root, Hostname: "gpu-01", Interval: time.Second, Log: slog.New(slog.DiscardHandler)}
	if err := Run(t.Context(), c, &out); err != nil {
		t.Fatalf("Run --once: %v", err)
	}
	var r struct {
		MachineID string `json:"machine_id"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("decode report: %v\n%s", err, out.String())
	}
	if r.MachineID != id {
		t.Errorf("machine_id = %q, want the host root's %q", r.MachineID, id)
	}
}
