package screen

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpumon/gpumon/agent/internal/collect"
)

func TestParseListSessions(t *testing.T) {
	out, err := os.ReadFile(filepath.Join("testdata", "tmux-list-sessions.txt"))
	if err != nil {
		t.Fatal(err)
	}
	got := parseListSessions(append(out, "garbage line\n"...), "alice")
	want := "tmux 15679 eval Detached alice\n" +
		"tmux 15679 train_v2 Detached alice\n" +
		"tmux 15679 research_v3 Attached alice\n"
	if s := summary(got); s != want {
		t.Errorf("parseListSessions:\n%s\nwant:\n%s", s, want)
	}
	if got[2].AttachedClients != 2 {
		t.Errorf("attached clients = %d, want 2", got[2].AttachedClients)
	}
}

// writeProc writes one fixture process.
func writeProc(t *testing.T, root, pid, comm, cmdline, environ string) {
	t.Helper()
	dir := filepath.Join(root, "proc", pid)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"comm": comm + "\n", "cmdline": cmdline, "environ": environ} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCollectTmuxFake(t *testing.T) {
	root := hostTree(t)
	writeProc(t, root, "500", "tmux: server", "tmux\x00new\x00-s\x00eval\x00", "HOME=/root\x00")
	writeProc(t, root, "600", "tmux: server", "tmux\x00-L\x00work\x00new\x00", "TMUX_TMPDIR=/var/tmux\x00")
	writeProc(t, root, "700", "bash", "bash\x00", "")
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "passwd"), []byte("root:x:0:0::/root:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var asked []string
	runner := func(_ context.Context, socket string, args ...string) ([]byte, error) {
		asked = append(asked, strings.TrimPrefix(socket, root))
		switch strings.TrimPrefix(socket, root) {
		case "/tmp/tmux-0/default":
			return []byte("$0\teval\t1\t500\n"), nil
		case "/var/tmux/tmux-0/work":
			return []byte("$0\tnight\t0\t600\n$1\tday\t0\t600\n"), nil
		}
		return nil, errors.New("no server running")
	}
	c := New(nil, WithProcRoot(filepath.Join(root, "proc")), WithTmuxRunner(runner))
	var s collect.Sample
	if err := c.Collect(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	want := "tmux 500 eval Attached root\ntmux 600 night Detached root\ntmux 600 day Detached root\n"
	if got := summary(s.TmuxSessions); got != want {
		t.Errorf("tmux sessions:\n%s\nwant:\n%s\nasked %v", got, want, asked)
	}
	if s.ScreenSessions == nil || len(s.ScreenSessions) != 0 {
		t.Errorf("screen sessions = %v, want an empty list", s.ScreenSessions)
	}
}

// TestTmuxServersReadNamesOnce: a process not named like tmux is read
// again only every tmuxRecheck scans, so one that becomes a server in place
// is found that late at most; a new server, or a tmux client that becomes
// one, is found on the next scan; an ended process is forgotten.
func TestTmuxServersReadNamesOnce(t *testing.T) {
	root := hostTree(t)
	writeProc(t, root, "700", "bash", "bash\x00", "")
	writeProc(t, root, "701", "tmux", "tmux\x00", "")
	c := New(nil, WithProcRoot(filepath.Join(root, "proc")))
	pids := func() []int {
		var out []int
		for _, s := range c.tmuxServers() {
			out = append(out, s.pid)
		}
		slices.Sort(out)
		return out
	}
	if got := pids(); len(got) != 0 {
		t.Fatalf("servers %v, want none", got)
	}
	writeProc(t, root, "700", "tmux: server", "tmux\x00-D\x00", "") // in place: exec tmux -D
	writeProc(t, root, "701", "tmux: server", "tmux\x00", "")
	writeProc(t, root, "800", "tmux: server", "tmux\x00", "")
	if got := pids(); !slices.Equal(got, []int{701, 800}) {
		t.Fatalf("servers %v, want the new one and the former client (700's name is not read again yet)", got)
	}
	found := 0
	for scan := 2; scan <= tmuxRecheck+1 && found == 0; scan++ {
		if slices.Contains(pids(), 700) {
			found = scan
		}
	}
	if found == 0 {
		t.Fatalf("the server that took 700's place was not found within %d scans", tmuxRecheck)
	}
	writeProc(t, root, "900", "sleep", "sleep\x00", "")
	pids()
	if err := os.RemoveAll(filepath.Join(root, "proc", "900")); err != nil {
		t.Fatal(err)
	}
	pids()
	if _, kept := c.others[900]; kept {
		t.Error("an ended process is still kept")
	}
}

func TestCollectTmuxNoBinary(t *testing.T) {
	root := hostTree(t)
	writeProc(t, root, "500", "tmux: server", "tmux\x00", "")
	runner := func(context.Context, string, ...string) ([]byte, error) { return nil, errNoTmux }
	c := New(nil, WithProcRoot(filepath.Join(root, "proc")), WithTmuxRunner(runner))
	var s collect.Sample
	if err := c.Collect(context.Background(), &s); !errors.Is(err, collect.ErrUnavailable) {
		t.Fatalf("Collect = %v, want ErrUnavailable", err)
	}
}

// TestCollectTmuxLive runs a real tmux server on a private socket.
func TestCollectTmuxLive(t *testing.T) {
	bin, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("no tmux binary")
	}
	sock := filepath.Join(t.TempDir(), "gpumon-test.sock")
	if out, err := exec.Command(bin, "-S", sock, "new-session", "-d", "-s", "livetest", "sleep 60").CombinedOutput(); err != nil {
		t.Skipf("cannot start tmux: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command(bin, "-S", sock, "kill-server").Run() })
	c := New(nil, WithProcRoot("/proc"), WithHostRoot("/"), WithScreenDirs())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var s collect.Sample
	if err := c.Collect(ctx, &s); err != nil {
		t.Logf("Collect: %v", err) // other users' servers may refuse us
	}
	for _, ts := range s.TmuxSessions {
		if ts.Name == "livetest" && ts.Kind == "tmux" && ts.Status == "Detached" && ts.User != "" {
			return
		}
	}
	t.Errorf("session livetest not found in %v", summary(s.TmuxSessions))
}
