package sim

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// statLine builds a /proc/<pid>/stat line with the given name, flags and
// start time (the fields PickPIDs reads).
func statLine(pid int, name string, flags, start uint64) string {
	return fmt.Sprintf("%d (%s) S 1 %d %d 0 -1 %d 120 0 0 0 3 1 0 0 20 0 1 0 %d 1000 100 18446744073709551615",
		pid, name, pid, pid, flags, start)
}

func TestParseStat(t *testing.T) {
	cases := []struct {
		name  string
		line  string
		flags uint64
		start uint64
		ok    bool
	}{
		{"plain", statLine(42, "python", 4194560, 9876), 4194560, 9876, true},
		{"spaces and parentheses in name", statLine(42, "my (odd) name)", 0, 5), 0, 5, true},
		{"kernel thread", statLine(2, "kthreadd", pfKThread|0x40, 1), pfKThread | 0x40, 1, true},
		{"no name", "42 S 1 2 3", 0, 0, false},
		{"truncated", "42 (x) S 1 2 3", 0, 0, false},
		{"bad number", "42 (x) S 1 2 3 4 5 NaN 7 8 9 10 11 12 13 14 15 16 17 18 19 20", 0, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, err := parseStat([]byte(tc.line + "\n"))
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && (st.flags != tc.flags || st.start != tc.start) {
				t.Errorf("got flags %d start %d, want %d %d", st.flags, st.start, tc.flags, tc.start)
			}
		})
	}
}

func TestPickPIDs(t *testing.T) {
	root := t.TempDir()
	procs := []struct {
		pid   int
		flags uint64
		start uint64
	}{
		{1, 0, 10},          // init: last
		{2, pfKThread, 11},  // kthreadd: never
		{50, pfKThread, 12}, // kernel worker: never
		{300, 0, 500},
		{120, 0, 40},
		{121, 0, 40},
		{999, 0, 90000}, // self
		{400, 0, 30},
	}
	for _, p := range procs {
		dir := filepath.Join(root, fmt.Sprint(p.pid))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(statLine(p.pid, "p", p.flags, p.start)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, junk := range []string{"self", "sys", "12345"} { // 12345: no stat file
		if err := os.MkdirAll(filepath.Join(root, junk), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		self, n int
		want    []uint32
	}{
		{999, 4, []uint32{999, 400, 120, 121}},
		{999, 10, []uint32{999, 400, 120, 121, 300, 1}},
		{7, 3, []uint32{400, 120, 121}},
		{999, 0, nil},
	}
	for _, tc := range cases {
		got := PickPIDs(root, tc.self, tc.n)
		if !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("PickPIDs(self=%d, n=%d) = %v, want %v", tc.self, tc.n, got, tc.want)
		}
	}
	if got := PickPIDs(filepath.Join(root, "missing"), 1, 3); got != nil {
		t.Errorf("missing root gave %v", got)
	}
	// A login user's process comes before older system processes.
	if os.Geteuid() != 0 {
		t.Skip("changing owners needs root")
	}
	if err := os.Chown(filepath.Join(root, "300"), 1001, 1001); err != nil {
		t.Fatal(err)
	}
	if got, want := PickPIDs(root, 999, 3), []uint32{999, 300, 400}; !slices.Equal(got, want) {
		t.Errorf("with a user process: %v, want %v", got, want)
	}
}

// TestPickPIDsLive: on this machine the current process comes first.
func TestPickPIDsLive(t *testing.T) {
	got := PickPIDs("/proc", os.Getpid(), 4)
	if len(got) == 0 || got[0] != uint32(os.Getpid()) {
		t.Errorf("PickPIDs(/proc) = %v, want the test process (%d) first", got, os.Getpid())
	}
}
