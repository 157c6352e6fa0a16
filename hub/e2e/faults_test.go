package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// seqs returns the agent sequence numbers the hub's history holds for a
// machine, in time order (raw samples of gpumon_agent_seq).
func seqs(t *testing.T, base, machine string) []int {
	t.Helper()
	r := promQuery(t, base, fmt.Sprintf(`gpumon_agent_seq{machine=%q}[1h]`, machine), time.Now().Add(time.Second))
	if len(r.Data.Result) == 0 {
		return nil
	}
	var out []int
	for _, v := range r.Data.Result[0].Values {
		var n int
		fmt.Sscan(fmt.Sprint(v[1]), &n)
		out = append(out, n)
	}
	return out
}

// assertEverySeqOnce checks that history holds 1..n, each exactly once, in order.
func assertEverySeqOnce(t *testing.T, got []int, atLeast int) {
	t.Helper()
	if len(got) < atLeast {
		t.Fatalf("history holds %d snapshots, want at least %d", len(got), atLeast)
	}
	for i, s := range got {
		if s != i+1 {
			t.Fatalf("history's sequence numbers are not 1..%d each once: %v", len(got), got)
		}
	}
}

func TestHubKilledDuringIngestAndRestartedAfter30s(t *testing.T) {
	dir, httpAddr, grpcAddr := t.TempDir(), freeAddr(t), freeAddr(t)
	h := startHub(t, dir, httpAddr, grpcAddr)
	startAgent(t, h, "e2e-outage", "rtx4090x4")
	waitFor(t, "5 snapshots", 30*time.Second, func() bool { return len(seqs(t, h.http, "e2e-outage")) >= 5 })

	h.kill() // SIGKILL: no shutdown, no registry save
	killedAt := time.Now()
	time.Sleep(30 * time.Second)
	h = startHub(t, dir, httpAddr, grpcAddr)
	if _, ok := machines(t, h.http)["e2e-outage"]; !ok {
		t.Fatal("registry lost the machine after SIGKILL")
	}
	took := waitFor(t, "agent back", 60*time.Second, func() bool { _, on := online(t, h.http, "e2e-outage"); return on })
	t.Logf("agent reconnected %s after the hub came back (%s after the kill)", took.Round(100*time.Millisecond), time.Since(killedAt).Round(time.Second))
	// Everything sampled during the outage is replayed.
	waitFor(t, "replay of the outage", 30*time.Second, func() bool { return len(seqs(t, h.http, "e2e-outage")) >= 40 })
	assertEverySeqOnce(t, seqs(t, h.http, "e2e-outage"), 40)
}

func TestNetworkCutWithoutFIN(t *testing.T) {
	h := newHub(t)
	proxy := startProxy(t, h.grpc)
	agent := start(t, "gpumon-agent", "--hub", proxy.addr(), "--token", agentToken, "--hostname", "e2e-cut",
		"--simulate", "rtx4090x4", "--interval", "1s", "--keepalive", "5s")
	waitFor(t, "agent online", 20*time.Second, func() bool { _, on := online(t, h.http, "e2e-cut"); return on })
	time.Sleep(2 * time.Second)

	proxy.holed.Store(true)
	offline := waitFor(t, "machine offline", 20*time.Second, func() bool { _, on := online(t, h.http, "e2e-cut"); return !on })
	t.Logf("offline %s after the cut (limit max(3 × 1 s, 10 s) = 10 s, swept every 1 s)", offline.Round(100*time.Millisecond))
	// Nothing reaches the hub through the hole, not even a FIN: only the
	// silence rule can mark it offline, and not before 10 s of silence (the
	// last sample came at most one 1 s interval before the cut). How late
	// is a figure, not a bound a busy machine can promise.
	if offline < 8*time.Second {
		t.Errorf("offline %s after the cut: before its 10 s silence limit", offline)
	}
	detected := waitFor(t, "agent's keepalive to give up on the stream", 40*time.Second, func() bool {
		return strings.Contains(agent.out.String(), "stream to hub ended")
	})
	t.Logf("agent detected the dead connection %s after the cut (keepalive 5 s + 10 s timeout)", (offline + detected).Round(100*time.Millisecond))

	proxy.holed.Store(false)
	back := waitFor(t, "machine online again", 60*time.Second, func() bool { _, on := online(t, h.http, "e2e-cut"); return on })
	t.Logf("online again %s after the path returned", back.Round(100*time.Millisecond))
	waitFor(t, "buffer replayed", 30*time.Second, func() bool {
		s := seqs(t, h.http, "e2e-cut")
		return len(s) > 0 && s[len(s)-1] == len(s) && len(s) >= 30
	})
	assertEverySeqOnce(t, seqs(t, h.http, "e2e-cut"), 30)
}

func TestAgentStartedBeforeHub(t *testing.T) {
	dir, httpAddr, grpcAddr := t.TempDir(), freeAddr(t), freeAddr(t)
	start(t, "gpumon-agent", "--hub", grpcAddr, "--token", agentToken, "--hostname", "e2e-early",
		"--simulate", "rtx4090x4", "--interval", "1s")
	time.Sleep(4 * time.Second)
	h := startHub(t, dir, httpAddr, grpcAddr)
	took := waitFor(t, "agent online", 40*time.Second, func() bool { _, on := online(t, h.http, "e2e-early"); return on })
	t.Logf("agent connected %s after the hub started", took.Round(100*time.Millisecond))
	waitFor(t, "samples from before the hub existed", 20*time.Second, func() bool { return len(seqs(t, h.http, "e2e-early")) >= 5 })
	assertEverySeqOnce(t, seqs(t, h.http, "e2e-early"), 5)
}

func TestCorruptRegistryRefusedNotWiped(t *testing.T) {
	dir, httpAddr, grpcAddr := t.TempDir(), freeAddr(t), freeAddr(t)
	h := startHub(t, dir, httpAddr, grpcAddr, "--legacy-open")
	code, _, _ := call(t, http.MethodPost, h.http+"/api/report-gpu-stats", "", strings.NewReader(`{"hostname":"e2e-reg"}`))
	if code != 200 {
		t.Fatal(code)
	}
	h.stop()
	path := filepath.Join(dir, "registry.bin")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, "gpumon-hub", "--data-dir", dir, "--http-addr", httpAddr, "--grpc-addr", grpcAddr)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatal("the hub started on a corrupt registry")
	}
	out := p.out.String()
	if p.cmd.ProcessState.ExitCode() == 0 || !strings.Contains(out, "corrupt") || !strings.Contains(out, path) {
		t.Errorf("exit %d, output %q: want a failure naming the corrupt file", p.cmd.ProcessState.ExitCode(), out)
	}
	after, _ := os.ReadFile(path)
	if string(after) != string(data) {
		t.Error("the corrupt registry was changed")
	}
}

func TestCorruptWALRepaired(t *testing.T) {
	dir, httpAddr, grpcAddr := t.TempDir(), freeAddr(t), freeAddr(t)
	h := startHub(t, dir, httpAddr, grpcAddr)
	startAgent(t, h, "e2e-wal", "rtx4090x4")
	// The first snapshot's records name every series and fill much of the
	// segment; 20 snapshots put enough samples after them that the torn
	// quarter below leaves some whole.
	waitFor(t, "20 snapshots", 60*time.Second, func() bool { return len(seqs(t, h.http, "e2e-wal")) >= 20 })
	h.kill()
	segs, _ := filepath.Glob(filepath.Join(dir, "tsdb", "wal", "0*"))
	if len(segs) == 0 {
		t.Fatal("no WAL segment")
	}
	last := segs[len(segs)-1]
	info, _ := os.Stat(last)
	f, err := os.OpenFile(last, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Garbage over the last quarter of the segment: a torn write.
	junk := []byte(strings.Repeat("\xde\xad\xbe\xef", int(info.Size()/16)+1))
	if _, err := f.WriteAt(junk[:info.Size()/4], info.Size()*3/4); err != nil {
		t.Fatal(err)
	}
	f.Close()

	h = startHub(t, dir, httpAddr, grpcAddr)
	got := seqs(t, h.http, "e2e-wal")
	if len(got) < 3 {
		t.Fatalf("after repairing the WAL only %d samples survive: %v", len(got), got)
	}
	for i, s := range got {
		if s != i+1 {
			t.Fatalf("repaired history is not a clean prefix: %v", got)
		}
	}
	t.Logf("WAL repaired: %d of the samples before the torn write survive", len(got))
}

// The data dir fills up: the hub keeps serving current state but stops
// acknowledging (the agent keeps its snapshots), says so in /readyz, and
// catches up once space returns; after a SIGKILL and a restart, history
// holds every sequence number the agent sent exactly once.
func TestDiskFullThenCrashLosesNoAcknowledgedSample(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs as the data dir")
	}
	dir := t.TempDir()
	if out, err := runCmd("mount", "-t", "tmpfs", "-o", "size=30m", "tmpfs", dir); err != nil {
		t.Skipf("cannot mount tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { _, _ = runCmd("umount", "-l", dir) })
	httpAddr, grpcAddr := freeAddr(t), freeAddr(t)
	h := startHub(t, dir, httpAddr, grpcAddr)
	startAgent(t, h, "e2e-full", "dgxh100")
	waitFor(t, "5 snapshots in history", 30*time.Second, func() bool { return len(seqs(t, h.http, "e2e-full")) >= 5 })

	filler := filepath.Join(dir, "filler")
	_, _ = runCmd("dd", "if=/dev/zero", "of="+filler, "bs=1M", "count=64") // fails at ENOSPC, as intended
	waitFor(t, "/readyz to say history is failing", 60*time.Second, func() bool {
		code, v, _ := call(t, http.MethodGet, h.http+"/readyz", "", nil)
		return code == http.StatusServiceUnavailable && strings.Contains(fmt.Sprint(v), "no space left on device")
	})
	stuck := len(seqs(t, h.http, "e2e-full"))
	before := machines(t, h.http)["e2e-full"].(map[string]any)["timestamp"]
	waitFor(t, "current state still served with a full disk", 20*time.Second, func() bool {
		m := machines(t, h.http)["e2e-full"].(map[string]any)
		return m["is_online"] == true && m["timestamp"] != before
	})
	time.Sleep(5 * time.Second) // more snapshots the hub cannot store
	if n := len(seqs(t, h.http, "e2e-full")); n != stuck {
		t.Errorf("history grew from %d to %d snapshots while it could not write", stuck, n)
	}

	os.Remove(filler)
	took := waitFor(t, "/readyz ready again", 60*time.Second, func() bool {
		code, _, _ := call(t, http.MethodGet, h.http+"/readyz", "", nil)
		return code == http.StatusOK
	})
	t.Logf("history writable again %s after space returned", took.Round(100*time.Millisecond))
	waitFor(t, "the agent's replay of what was not acknowledged", 60*time.Second, func() bool {
		s := seqs(t, h.http, "e2e-full")
		return len(s) >= stuck+15 && s[len(s)-1] == len(s)
	})
	first := h
	h.kill() // SIGKILL: no shutdown, no registry save
	h = startHub(t, dir, httpAddr, grpcAddr)
	n := len(seqs(t, h.http, "e2e-full"))
	waitFor(t, "more snapshots after the restart", 60*time.Second, func() bool { return len(seqs(t, h.http, "e2e-full")) >= n+5 })
	assertEverySeqOnce(t, seqs(t, h.http, "e2e-full"), n+5)
	for _, want := range []string{"no space left on device", "history store failed", "history store recovered"} {
		if !strings.Contains(first.out.String(), want) {
			t.Errorf("the hub's log lacks %q", want)
		}
	}
	t.Logf("log: %s", firstLine(first.out.String(), "history store failed"))
	t.Logf("history held %d snapshots when the disk filled; %d after the restart, each once (reopen: %s)",
		stuck, len(seqs(t, h.http, "e2e-full")), firstLine(first.out.String(), "corruption repair"))
}

func firstLine(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}
