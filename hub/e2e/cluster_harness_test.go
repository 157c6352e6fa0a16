package e2e

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// debianTool finds a Debian package's binary. As root it installs the
// package when missing (CI runs on a clean machine); otherwise a missing
// tool fails the test when GPUMON_REQUIRE_PROMETHEUS is set (make test) and
// skips it when not.
func debianTool(t *testing.T, binary, pkg string) string {
	t.Helper()
	if bin, err := exec.LookPath(binary); err == nil {
		return bin
	}
	if os.Geteuid() == 0 {
		if out, err := runCmd("sh", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "+pkg); err != nil {
			t.Fatalf("install %s: %v\n%s", pkg, err, out)
		}
		if bin, err := exec.LookPath(binary); err == nil {
			return bin
		}
	}
	if os.Getenv("GPUMON_REQUIRE_PROMETHEUS") != "" {
		t.Fatalf("%s is not installed (apt-get install %s)", binary, pkg)
	}
	t.Skipf("%s is not installed; `make test` installs %s", binary, pkg)
	return ""
}

// natsNode is one nats-server of a test cluster, JetStream on.
type natsNode struct {
	*proc
	name, conf, client string
}

// natsCluster is a cluster of nats-server nodes on loopback.
type natsCluster struct {
	t     *testing.T
	bin   string
	nodes []*natsNode
}

// startNATS starts n nats-server nodes routed into one cluster, each with
// JetStream in its own temporary directory, and waits until JetStream
// answers on every node.
func startNATS(t *testing.T, n int) *natsCluster {
	t.Helper()
	c := &natsCluster{t: t, bin: debianTool(t, "nats-server", "nats-server")}
	dir := t.TempDir()
	clients, routes := make([]string, n), make([]string, n)
	for i := range n {
		clients[i], routes[i] = freeAddr(t), freeAddr(t)
	}
	for i := range n {
		var peers []string
		for j := range n {
			if j != i {
				peers = append(peers, "nats-route://"+routes[j])
			}
		}
		host, port, _ := net.SplitHostPort(clients[i])
		rhost, rport, _ := net.SplitHostPort(routes[i])
		name := fmt.Sprintf("n%d", i+1)
		store := filepath.Join(dir, name)
		conf := filepath.Join(dir, name+".conf")
		body := fmt.Sprintf("server_name: %s\nhost: %s\nport: %s\njetstream { store_dir: %q }\ncluster { name: gpumon-e2e, host: %s, port: %s, routes: [%s] }\n",
			name, host, port, store, rhost, rport, strings.Join(peers, ", "))
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		node := &natsNode{name: name, conf: conf, client: clients[i]}
		node.proc = start(t, c.bin, "-c", conf)
		c.nodes = append(c.nodes, node)
	}
	for _, node := range c.nodes {
		c.waitJetStream(node)
	}
	return c
}

// waitJetStream waits until node's JetStream has a meta leader (the
// monitoring port is off, so it asks the client port through a hub-less
// probe: a TCP connect and the server's INFO line saying jetstream).
func (c *natsCluster) waitJetStream(node *natsNode) {
	waitFor(c.t, "nats-server "+node.name, 30*time.Second, func() bool {
		conn, err := net.DialTimeout("tcp", node.client, time.Second)
		if err != nil {
			return false
		}
		defer conn.Close()
		_ = conn.SetReadDeadline(time.Now().Add(time.Second))
		buf := make([]byte, 4096)
		n, _ := conn.Read(buf)
		return strings.Contains(string(buf[:n]), `"jetstream":true`)
	})
}

// urls is the --cluster-nats value for every node.
func (c *natsCluster) urls() string {
	var out []string
	for _, n := range c.nodes {
		out = append(out, "nats://"+n.client)
	}
	return strings.Join(out, ",")
}

// restart starts a stopped node again with its configuration and store.
func (c *natsCluster) restart(i int) {
	node := c.nodes[i]
	node.proc = start(c.t, c.bin, "-c", node.conf)
	c.waitJetStream(node)
}

// clusterHub starts a hub of cluster natsURLs named name, with a short
// keepalive so that tests do not wait long for a dead hub to be noticed.
func clusterHub(t *testing.T, natsURLs, name string, extra ...string) *hub {
	t.Helper()
	args := append([]string{"--cluster-nats", natsURLs, "--cluster-name", "e2e", "--cluster-hub", name, "--cluster-keepalive", "3s"}, extra...)
	return startHub(t, t.TempDir(), freeAddr(t), freeAddr(t), args...)
}

// hubList is an agent's --hub value for hubs.
func hubList(hubs ...*hub) string {
	var out []string
	for _, h := range hubs {
		out = append(out, h.grpc)
	}
	return strings.Join(out, ",")
}

// holder is the hub a hub's API says holds machine key ("" when unlisted).
func holder(t *testing.T, base, key string) (hubName string, online, reconnecting bool) {
	m, ok := machines(t, base)[key].(map[string]any)
	if !ok {
		return "", false, false
	}
	return fmt.Sprint(m["hub"]), m["is_online"] == true, m["reconnecting"] == true
}

// ready reports whether a hub's /readyz answers 200.
func ready(base string) bool { return answers200(base + "/readyz") }

// answers200 reports whether GET url answers 200.
func answers200(url string) bool {
	resp, err := http.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// startCluster starts a 3-node NATS cluster and hubs of that name on it,
// and waits until each hub shares the fleet.
func startCluster(t *testing.T, names []string, extra ...string) (*natsCluster, []*hub) {
	t.Helper()
	nats := startNATS(t, 3)
	var hubs []*hub
	for _, name := range names {
		h := clusterHub(t, nats.urls(), name, extra...)
		waitFor(t, name+" in the cluster (/readyz)", 60*time.Second, func() bool { return ready(h.http) })
		hubs = append(hubs, h)
	}
	return nats, hubs
}

// startLoad runs gpumon-loadgen's agents, machines PREFIX-0001…, every 1 s
// on hubs.
func startLoad(t *testing.T, hubs []*hub, agents int, prefix string) *proc {
	t.Helper()
	return start(t, "gpumon-loadgen", "--hub", hubList(hubs...), "--token", agentToken, "--agents", fmt.Sprint(agents),
		"--interval", "1s", "--duration", "10m", "--profile", "small", "--prefix", prefix)
}

// startVictoriaMetrics starts Debian's single-node VictoriaMetrics in a
// temporary directory and returns its base URL. Samples written twice (a
// hub killed between sending a snapshot and recording that it did, the
// agent replaying it to another) are kept once, as for a Prometheus HA
// pair; queries see the newest samples at once.
func startVictoriaMetrics(t *testing.T) string {
	t.Helper()
	bin := debianTool(t, "victoria-metrics", "victoria-metrics")
	addr := freeAddr(t)
	start(t, bin, "-storageDataPath", t.TempDir(), "-httpListenAddr", addr,
		"-dedup.minScrapeInterval", "1ms", "-search.latencyOffset", "0s", "-search.disableCache", "-loggerLevel", "WARN")
	base := "http://" + addr
	waitFor(t, "victoria-metrics /health", 30*time.Second, func() bool { return answers200(base + "/health") })
	return base
}
