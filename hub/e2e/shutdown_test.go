package e2e

import (
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestGracefulShutdown(t *testing.T) {
	dir, httpAddr, grpcAddr := t.TempDir(), freeAddr(t), freeAddr(t)
	h := startHub(t, dir, httpAddr, grpcAddr)
	agent := startAgent(t, h, "e2e-term", "rtx4090x4")
	waitFor(t, "5 snapshots", 30*time.Second, func() bool { return len(seqs(t, h.http, "e2e-term")) >= 5 })

	// SIGTERM to the hub: it drains streams, saves the registry, flushes history.
	begin := time.Now()
	h.stop()
	if code := h.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("hub exited %d on SIGTERM", code)
	}
	t.Logf("hub stopped %s after SIGTERM", time.Since(begin).Round(10*time.Millisecond))
	if !strings.Contains(h.out.String(), "gpumon-hub: stopped") {
		t.Error("hub did not report a clean stop")
	}
	h = startHub(t, dir, httpAddr, grpcAddr)
	waitFor(t, "agent back", 60*time.Second, func() bool { _, on := online(t, h.http, "e2e-term"); return on })
	waitFor(t, "more snapshots", 20*time.Second, func() bool { return len(seqs(t, h.http, "e2e-term")) >= 15 })
	assertEverySeqOnce(t, seqs(t, h.http, "e2e-term"), 15)

	// SIGTERM to the agent: it flushes its buffer and exits promptly.
	begin = time.Now()
	_ = agent.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-agent.done:
	case <-time.After(10 * time.Second):
		t.Fatal("agent still running 10 s after SIGTERM")
	}
	t.Logf("agent stopped %s after SIGTERM", time.Since(begin).Round(10*time.Millisecond))
	if code := agent.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("agent exited %d on SIGTERM", code)
	}
	if strings.Contains(agent.out.String(), "not acknowledged") {
		t.Errorf("agent stopped with unacknowledged snapshots:\n%s", agent.out.String())
	}
	waitFor(t, "machine offline after the agent stopped", 15*time.Second, func() bool { _, on := online(t, h.http, "e2e-term"); return !on })
}

func TestConnectionBurstIsShed(t *testing.T) {
	h := newHub(t, "--max-connections", "500")
	startAgent(t, h, "e2e-steady", "rtx4090x4")
	waitFor(t, "agent online", 20*time.Second, func() bool { _, on := online(t, h.http, "e2e-steady"); return on })

	const attempts = 10000
	var opened, refused atomic.Int64
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sem := make(chan struct{}, 1000)
	conns := make(chan net.Conn, attempts)
	for i := 0; i < attempts; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			d := net.Dialer{Timeout: 5 * time.Second}
			c, err := d.DialContext(ctx, "tcp", h.grpc)
			if err != nil {
				refused.Add(1)
				return
			}
			opened.Add(1)
			conns <- c // held open until the end of the burst
		}()
	}
	wg.Wait()
	close(conns)
	// While the burst's connections are held, the hub still serves REST and
	// the steady agent.
	before := machines(t, h.http)["e2e-steady"].(map[string]any)["timestamp"]
	waitFor(t, "fresh data from the steady agent during the burst", 15*time.Second, func() bool {
		m := machines(t, h.http)["e2e-steady"].(map[string]any)
		return m["is_online"] == true && m["timestamp"] != before
	})
	for c := range conns {
		c.Close()
	}
	metrics := getText(t, h.http+"/metrics")
	shed := 0.0
	for _, l := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(l, `gpumon_hub_shed_total{what="connections"}`) {
			_, _ = fmtSscan(l[strings.LastIndex(l, " ")+1:], &shed)
		}
	}
	t.Logf("%d connection attempts: %d opened at TCP level, %d refused by the kernel; hub closed %.0f over its limit of 500", attempts, opened.Load(), refused.Load(), shed)
	if shed < attempts/2 {
		t.Errorf("hub shed only %.0f of %d connections", shed, attempts)
	}
}
