package sim

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func statLine(pid, ppid int, name string, start uint64) string {
	return fmt.Sprintf("%d (%s) S %d %d %d 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 %d 1000 10 18446744073709551615",
		pid, name, ppid, pid, pid, start)
}

func TestParseStat(t *testing.T) {
	cases := []struct {
		name  string
		line  string
		ppid  int
		start uint64
		ok    bool
	}{
		{"plain", statLine(42, 7, "python", 9876), 7, 9876, true},
		{"spaces and parentheses in the name", statLine(42, 1, "tmux: server (x))", 5), 1, 5, true},
		{"no name", "42 S 1 2 3", 0, 0, false},
		{"truncated", "42 (x) S 1 2 3", 0, 0, false},
		{"bad start", "42 (x) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 NaN 1000", 0, 0, false},
		{"bad parent", "42 (x) S P 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 77 1000", 0, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, err := parseStat([]byte(tc.line + "\n"))
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && (st.ppid != tc.ppid || st.start != tc.start) {
				t.Errorf("got %+v, want ppid %d start %d", st, tc.ppid, tc.start)
			}
		})
	}
	// This process: alive, with a start time.
	if !alive(os.Getpid()) || startTime(os.Getpid()) == 0 || alive(1<<30) || startTime(1<<30) != 0 {
		t.Error("alive/startTime disagree with /proc for this process or a PID that cannot exist")
	}
}

// TestSamePIDs: this machine's /proc numbers processes as this process does;
// a /proc whose self is another number (a host's, from a container in its
// own PID namespace) or none at all does not.
func TestSamePIDs(t *testing.T) {
	other := t.TempDir()
	if err := os.Symlink("1", filepath.Join(other, "self")); err != nil {
		t.Fatal(err)
	}
	for root, want := range map[string]bool{"/proc": true, other: false, t.TempDir(): false} {
		if got := SamePIDs(root); got != want {
			t.Errorf("SamePIDs(%s) = %v, want %v", root, got, want)
		}
	}
}
