package e2e

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// An agent given one DNS name that resolves to several hubs (a Kubernetes
// Service, a round-robin record) connects to one of them and, when that hub
// is killed, to another within its backoff; every sequence number reaches
// the shared history once. The name resolves through an /etc/hosts mounted
// over the agent's own in a private mount namespace, so the test needs root
// (CI runs as root) and util-linux's unshare.
func TestClusterOneNameSeveralAddresses(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the agent resolves the hubs' name through an /etc/hosts mounted in its own mount namespace")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Fatalf("unshare (util-linux) not found: %v", err)
	}
	// One port on two loopback addresses, as one name's addresses share it.
	_, port, _ := net.SplitHostPort(freeAddr(t))
	vm := startVictoriaMetrics(t)
	nats := startNATS(t, 3)
	var hubs []*hub
	for i, name := range []string{"hub-a", "hub-b"} {
		ip := []string{"127.0.0.2", "127.0.0.3"}[i]
		h := startHub(t, t.TempDir(), freeAddr(t), net.JoinHostPort(ip, port), "--cluster-nats", nats.urls(), "--cluster-name", "e2e",
			"--cluster-hub", name, "--cluster-keepalive", "3s", "--remote-write-url", vm+"/api/v1/write", "--history-url", vm)
		waitFor(t, name+" in the cluster (/readyz)", 60*time.Second, func() bool { return ready(h.http) })
		hubs = append(hubs, h)
	}
	hosts := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(hosts, []byte("127.0.0.1 localhost\n127.0.0.2 hubs.gpumon.test\n127.0.0.3 hubs.gpumon.test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// GODEBUG=netdns=go: Go's own resolver, which reads /etc/hosts, as
	// it does by default on a host with a plain nsswitch.conf.
	agent := start(t, unshare, "--mount", "--propagation", "private", "--", "sh", "-c",
		`mount --bind "$0" /etc/hosts && exec env GODEBUG=netdns=go "$@"`, hosts,
		filepath.Join(binDir, "gpumon-agent"), "--hub", "hubs.gpumon.test:"+port, "--token", agentToken,
		"--hostname", "c7-dns", "--simulate", "rtx4090x2", "--interval", "500ms")
	var first string
	waitFor(t, "c7-dns online through hubs.gpumon.test", 30*time.Second, func() bool {
		name, on, _ := holder(t, hubs[0].http, "c7-dns")
		first = name
		return on && (name == "hub-a" || name == "hub-b")
	})
	time.Sleep(3 * time.Second) // some history before the kill
	victim, survivor, other := hubs[0], hubs[1], "hub-b"
	if first == "hub-b" {
		victim, survivor, other = hubs[1], hubs[0], "hub-a"
	}
	victim.kill()
	killed := time.Now()
	waitFor(t, "c7-dns held by "+other, 30*time.Second, func() bool {
		name, on, _ := holder(t, survivor.http, "c7-dns")
		return on && name == other
	})
	t.Logf("held by %s through hubs.gpumon.test; %s killed, held by %s %s later", first, first, other, time.Since(killed).Round(100*time.Millisecond))
	time.Sleep(3 * time.Second) // more history after the move
	agent.stop()
	var got []int
	waitFor(t, "c7-dns's history in the shared store", 30*time.Second, func() bool {
		got = seqs(t, survivor.http, "c7-dns")
		return len(got) >= 10
	})
	assertEverySeqOnce(t, got, 10)
	t.Logf("%d snapshots, each recorded once", len(got))
}
