package screen

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpumon/gpumon/agent/internal/collect"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

func TestParseSocketName(t *testing.T) {
	tests := []struct {
		in   string
		pid  int
		name string
		ok   bool
	}{
		{"1234.train.v2", 1234, "train.v2", true},
		{"88.pts-0.gpu01", 88, "pts-0.gpu01", true},
		{"7.x", 7, "x", true},
		{"5392..vm", 5392, ".vm", true}, // no -S and no tty: "<pid>.<tty>.<host>"
		{"1234.", 0, "", false},
		{"1234", 0, "", false},
		{"abc.name", 0, "", false},
		{".name", 0, "", false},
	}
	for _, tt := range tests {
		pid, name, ok := parseSocketName(tt.in)
		if pid != tt.pid || name != tt.name || ok != tt.ok {
			t.Errorf("parseSocketName(%q) = %d, %q, %v", tt.in, pid, name, ok)
		}
	}
}

func TestScreenStatus(t *testing.T) {
	tests := map[os.FileMode]string{
		0o600: "Detached",
		0o700: "Attached",
		0o711: "Multi",
		0o601: "Multi",
		0o610: "Multi",
	}
	for mode, want := range tests {
		if got := screenStatus(mode | os.ModeSocket); got != want {
			t.Errorf("screenStatus(%o) = %q, want %q", mode, got, want)
		}
	}
}

// hostTree makes a host root with a proc directory listing pids.
func hostTree(t *testing.T, pids ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, pid := range pids {
		if err := os.MkdirAll(filepath.Join(root, "proc", pid), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// socket creates a screen socket (a real unix socket when listen is set)
// with the given mode.
func socket(t *testing.T, path string, mode os.FileMode, listen bool) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if listen {
		l, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
	} else if err := os.WriteFile(path, nil, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func summary(ss []*gpumonv1.TerminalSession) string {
	var b strings.Builder
	for _, s := range ss {
		b.WriteString(s.Kind + " " + s.Pid + " " + s.Name + " " + s.Status + " " + s.User + "\n")
	}
	return b.String()
}

func TestCollectScreenSessions(t *testing.T) {
	root := hostTree(t, "1234", "2000", "3000", "4000", "5386", "5389", "5392")
	run := filepath.Join(root, "run", "screen")
	// As screen 4.09 left them (testdata/screen-4.09-layout.txt).
	socket(t, filepath.Join(run, "S-root", "5386.train.v2"), 0o700, true)
	socket(t, filepath.Join(run, "S-root", "5389.multi.x"), 0o601, true)
	socket(t, filepath.Join(run, "S-root", "5392..vm"), 0o600, true)
	socket(t, filepath.Join(run, "S-alice", "1234.train.v2"), 0o700, true)
	socket(t, filepath.Join(run, "S-alice", "9999.dead"), 0o600, false)
	socket(t, filepath.Join(run, "S-bob", "2000.pts-1.gpu01"), 0o600, true)
	socket(t, filepath.Join(run, "S-carol", "3000.shared"), 0o711, false)
	socket(t, filepath.Join(root, "tmp", "screens", "S-dave", "4000.old.layout"), 0o600, false)
	if err := os.MkdirAll(filepath.Join(root, "var"), 0o755); err != nil {
		t.Fatal(err)
	}
	// /var/run is a link to /run: its sessions are not listed twice.
	if err := os.Symlink(filepath.Join(root, "run"), filepath.Join(root, "var", "run")); err != nil {
		t.Fatal(err)
	}
	c := New(nil, WithProcRoot(filepath.Join(root, "proc")), WithTmuxRunner(nil))
	var s collect.Sample
	if err := c.Collect(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	want := "screen 1234 train.v2 Attached alice\n" +
		"screen 2000 pts-1.gpu01 Detached bob\n" +
		"screen 3000 shared Multi carol\n" +
		"screen 4000 old.layout Detached dave\n" +
		"screen 5392 .vm Detached root\n" +
		"screen 5389 multi.x Multi root\n" +
		"screen 5386 train.v2 Attached root\n"
	if got := summary(s.ScreenSessions); got != want {
		t.Errorf("screen sessions:\n%s\nwant:\n%s", got, want)
	}
}

func TestCollectUnavailable(t *testing.T) {
	root := hostTree(t, "1")
	c := New(nil, WithProcRoot(filepath.Join(root, "proc")))
	var s collect.Sample
	err := c.Collect(context.Background(), &s)
	if !errors.Is(err, collect.ErrUnavailable) {
		t.Fatalf("Collect = %v, want ErrUnavailable", err)
	}
}

func TestCollectEmptyScreenDir(t *testing.T) {
	root := hostTree(t, "1")
	if err := os.MkdirAll(filepath.Join(root, "run", "screen"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := New(nil, WithProcRoot(filepath.Join(root, "proc")), WithTmuxRunner(nil))
	var s collect.Sample
	if err := c.Collect(context.Background(), &s); err != nil || s.ScreenSessions == nil || len(s.ScreenSessions) != 0 {
		t.Fatalf("Collect = %v, sessions %v; want none, no error", err, s.ScreenSessions)
	}
}
