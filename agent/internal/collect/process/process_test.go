package process

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpumon/gpumon/agent/internal/collect"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// copyTree copies the fixture host root into a temporary directory so a
// test can change it.
func copyTree(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(filepath.Join("testdata", "root"))); err != nil {
		t.Fatal(err)
	}
	return dst
}

func fakeTmux(names map[string]string) TmuxLister {
	return func(context.Context, string) (map[string]string, error) { return names, nil }
}

func collectByPID(t *testing.T, c *Collector) map[int32]*gpumonv1.Process {
	t.Helper()
	var s collect.Sample
	if err := c.Collect(context.Background(), &s); err != nil {
		t.Fatalf("Collect: %v", err)
	}
	m := make(map[int32]*gpumonv1.Process, len(s.Processes))
	for _, p := range s.Processes {
		m[p.Pid] = p
	}
	return m
}

func TestCollectFixture(t *testing.T) {
	root := filepath.Join("testdata", "root")
	c := New(nil, WithProcRoot(filepath.Join(root, "proc")),
		WithTmuxLister(fakeTmux(map[string]string{"$0": "train_v2", "$1": "eval"})))
	ps := collectByPID(t, c)
	if len(ps) != 25 {
		t.Errorf("got %d processes, want 25", len(ps))
	}
	p := ps[402]
	if p.Name != "python3" || p.Cmdline != "python3 train.py --epochs 90" || p.Ppid != 401 ||
		p.Username != "alice" || p.Status != "running" || p.ContainerId != "" {
		t.Errorf("pid 402 = %v", p)
	}
	if p.Rss != 800000*float64(os.Getpagesize()) {
		t.Errorf("rss = %v", p.Rss)
	}
	if want := p.Rss / (24683620 * 1024) * 100; p.MemoryPercent != want {
		t.Errorf("memory_percent = %v, want %v", p.MemoryPercent, want)
	}
	if want := 1795919945 + 81.0; p.CreateTime != want {
		t.Errorf("create_time = %v, want %v", p.CreateTime, want)
	}
	if p.CpuPercent != 0 {
		t.Errorf("first sight cpu_percent = %v, want 0", p.CpuPercent)
	}
	if ps[100].ContainerId == "" || ps[310].ContainerId == "" || ps[320].ContainerId == "" {
		t.Error("container processes without container id")
	}
	if ps[702].Name != "python3.11-trainer" || ps[701].Username != "4242" {
		t.Errorf("pid 702 name %q, pid 701 user %q", ps[702].Name, ps[701].Username)
	}
}

func TestCollectSessions(t *testing.T) {
	root := copyTree(t)
	// bob's screen was started without -S: its name is in the socket.
	sockDir := filepath.Join(root, "run", "screen", "S-bob")
	if err := os.MkdirAll(sockDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sockDir, "410.pts-3.gpu01"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c := New(nil, WithProcRoot(filepath.Join(root, "proc")),
		WithTmuxLister(fakeTmux(map[string]string{"$1": "eval"})))
	ps := collectByPID(t, c)
	tests := []struct {
		pid  int32
		want string // kind/name/user, "" for none
	}{
		{400, "screen/train.v2/alice"},
		{401, "screen/train.v2/alice"},
		{402, "screen/train.v2/alice"},
		{403, "screen/train.v2/alice"},
		{600, "screen/train.v2/alice"},
		{411, "screen/pts-3.gpu01/bob"},
		{500, ""},
		{501, "tmux/eval/alice"},
		{502, "tmux/eval/alice"},
		{1, ""},
		{100, ""},
	}
	for _, tt := range tests {
		got := ""
		if s := ps[tt.pid].GetSession(); s != nil {
			got = s.Kind + "/" + s.Name + "/" + s.User
		}
		if got != tt.want {
			t.Errorf("pid %d session = %q, want %q", tt.pid, got, tt.want)
		}
	}
}

// setStat rewrites one field group of a fixture stat file.
func setStat(t *testing.T, root string, pid, old, new string) {
	t.Helper()
	path := filepath.Join(root, "proc", pid, "stat")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), old, new, 1)
	if s == string(b) {
		t.Fatalf("%q not in %s", old, path)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCPUPercentAndPrune(t *testing.T) {
	root := copyTree(t)
	c := New(nil, WithProcRoot(filepath.Join(root, "proc")), WithTmuxLister(fakeTmux(nil)))
	now := time.Unix(1795920000, 0)
	c.now = func() time.Time { return now }
	collectByPID(t, c)

	// Two seconds later pid 402 used 150 more ticks (1.5 s of CPU): 75 %.
	now = now.Add(2 * time.Second)
	setStat(t, root, "402", " 90000 1200 ", " 90100 1250 ")
	if err := os.RemoveAll(filepath.Join(root, "proc", "403")); err != nil {
		t.Fatal(err)
	}
	// pid 15 was replaced by a new process with the same pid.
	setStat(t, root, "15", " 0 40 0 0 20 0 1 0 25 ", " 0 40 0 0 20 0 1 0 99 ")
	ps := collectByPID(t, c)
	if got := ps[402].CpuPercent; got != 75 {
		t.Errorf("cpu_percent = %v, want 75", got)
	}
	if ps[403] != nil {
		t.Error("vanished pid 403 still listed")
	}
	if _, kept := c.procs[403]; kept {
		t.Error("state of vanished pid 403 kept")
	}
	if e := c.procs[15]; e == nil || e.start != 99 {
		t.Errorf("pid 15 not re-read after reuse: %+v", e)
	}
	if ps[15].CpuPercent != 0 {
		t.Errorf("reused pid cpu_percent = %v, want 0", ps[15].CpuPercent)
	}
}

func TestCollectMissingRoot(t *testing.T) {
	c := New(nil, WithProcRoot(filepath.Join(t.TempDir(), "proc")))
	var s collect.Sample
	if err := c.Collect(context.Background(), &s); err == nil {
		t.Fatal("no error for a missing proc root")
	}
}
