package e2e

import (
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// shedMetric reads gpumon_hub_shed_total{what="<what>"}.
func shedMetric(t *testing.T, base, what string) float64 {
	t.Helper()
	prefix := `gpumon_hub_shed_total{what="` + what + `"} `
	for _, l := range strings.Split(getText(t, base+"/metrics"), "\n") {
		if v, ok := strings.CutPrefix(l, prefix); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	t.Fatalf("/metrics has no %s", prefix)
	return 0
}

// TestSnapshotBudgetIsPerMachine: each reconnect got a new burst, so 10
// back-to-back streams pushed 10 bursts with no shedding. The budget belongs
// to the machine: later streams of it are shed once it is spent.
func TestSnapshotBudgetIsPerMachine(t *testing.T) {
	const burst, streams, each = 50, 10, 50
	h := newHub(t, "--max-snapshot-rate", "1", "--max-snapshot-burst", strconv.Itoa(burst))
	conn := dialHub(t, h)
	begin := time.Now()
	shed := 0
	for s := range streams {
		msgs := []*gpumonv1.ConnectRequest{hello("e2e-bursty")}
		for i := range each {
			msgs = append(msgs, snapshot(uint64(s*each+i+1), 1))
		}
		if code, _ := streamCode(t, conn, agentToken, msgs...); code == codes.ResourceExhausted {
			shed++
		}
	}
	elapsed := time.Since(begin)
	ingested := metric(t, h.http, "gpumon_hub_snapshots_total")
	t.Logf("%d streams of %d snapshots in %s: %.0f ingested, %d streams shed", streams, each, elapsed.Round(time.Millisecond), ingested, shed)
	// The budget allows the burst plus the rate over the time taken.
	if allowed := float64(burst) + elapsed.Seconds()*1 + 1; ingested > allowed {
		t.Errorf("ingested %.0f snapshots; one machine's budget allows %.0f in %s", ingested, allowed, elapsed)
	}
	if shed < streams-2 || shedMetric(t, h.http, "streams") < float64(streams-2) {
		t.Errorf("%d of %d streams shed, want all but the first (and one the rate refilled)", shed, streams)
	}
}

// TestIdleConnectionsDoNotLockAgentsOut: TCP connections that never speak
// held gRPC connection slots for two minutes and locked real agents out.
// One address may hold --max-connections-per-address; each must finish its
// handshake within 10 s.
func TestIdleConnectionsDoNotLockAgentsOut(t *testing.T) {
	h := newHub(t, "--max-connections", "40", "--max-connections-per-address", "10")
	// An attacker on another loopback address opens 60 connections and
	// says nothing.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 5 * time.Second}
	var held []net.Conn
	for range 60 {
		c, err := d.Dial("tcp", h.grpc)
		if err != nil {
			t.Skipf("cannot dial from 127.0.0.2: %v", err)
		}
		held = append(held, c)
	}
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	waitFor(t, "connections over the per-address limit closed", 20*time.Second, func() bool {
		return shedMetric(t, h.http, "connections_per_address") >= 50
	})
	// A real agent still gets in.
	startAgent(t, h, "e2e-real", "rtx4090x4")
	waitFor(t, "the real agent online", 30*time.Second, func() bool { _, on := online(t, h.http, "e2e-real"); return on })
	// And the idle connections the hub kept are closed at the handshake
	// deadline.
	begin := time.Now()
	for _, c := range held {
		_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
	}
	closed := 0
	for _, c := range held {
		if _, err := io.ReadAll(c); err == nil { // EOF: closed by the hub
			closed++
		}
	}
	t.Logf("all %d idle connections closed by the hub %s after the agent got in (handshake deadline 10 s)", closed, time.Since(begin).Round(100*time.Millisecond))
	if closed != len(held) {
		t.Errorf("%d of %d idle connections still open after 60 s", len(held)-closed, len(held))
	}
}
