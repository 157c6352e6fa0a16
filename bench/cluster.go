package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// cluster: 1, 2 and 3 hubs sharing the fleet through a 3-node NATS
// JetStream cluster (Debian's nats-server): sustained snapshots/s, what the
// replication costs per snapshot (record bytes written to NATS, hub CPU),
// and the time from a sample taken by an agent of hub A to hub B's watch
// stream.
func (b *bench) cluster() error {
	const sec = "Several hubs: a NATS JetStream cluster of 3 nodes on this machine (gpumon-loadgen, dgxh100 machines)"
	nats, err := b.startNATS()
	if err != nil {
		return err
	}
	defer nats.stop()
	// Below what one hub sustains on this machine (see the gRPC section), so
	// that the rows compare what replication costs, not a saturated hub.
	const agents = 100
	interval := 500 * time.Millisecond
	warm, measure := b.dur(8*time.Second), b.dur(15*time.Second)
	for n := 0; n <= 3; n++ {
		r, err := b.clusterLoad(nats.urls, n, agents, interval, warm, measure)
		if err != nil {
			return err
		}
		if n == 0 {
			b.add(Row{
				Section: sec, Name: fmt.Sprintf("one hub without --cluster-nats, %d agents × every %s = %.0f snapshots/s offered (for comparison)", agents, interval, r.offered),
				Hub: fmt.Sprintf("%.0f/s; hub %.0f µs CPU/snapshot, %.2f cores; ack p50 %s p99 %s",
					r.rate, r.cpuPerSnap*1e6, r.hubCores, fmtMs(r.p50), fmtMs(r.p99)),
				Command: fmt.Sprintf("make bench BENCH_ONLY=cluster (gpumon-hub; gpumon-loadgen --profile dgxh100 --agents %d --interval %s)", agents, interval),
				Values:  map[string]float64{"hubs": 0, "offered": r.offered, "rate": r.rate, "hub_cpu_per_snapshot_s": r.cpuPerSnap, "hub_cores": r.hubCores},
			})
			continue
		}
		b.add(Row{
			Section: sec, Name: fmt.Sprintf("%d hub(s), %d agents × every %s = %.0f snapshots/s offered", n, agents, interval, r.offered),
			Hub: fmt.Sprintf("%.0f/s; %.0f B on NATS per snapshot (%.2f records); hubs %.0f µs CPU/snapshot, %.2f cores; NATS %.2f cores; ack p50 %s p99 %s",
				r.rate, r.bytesPerSnap, r.recordsPerSnap, r.cpuPerSnap*1e6, r.hubCores, r.natsCores, fmtMs(r.p50), fmtMs(r.p99)),
			Command: fmt.Sprintf("make bench BENCH_ONLY=cluster (%d × gpumon-hub --cluster-nats …; gpumon-loadgen --hub HUB1,… --profile dgxh100 --agents %d --interval %s)", n, agents, interval),
			Values: map[string]float64{"hubs": float64(n), "offered": r.offered, "rate": r.rate, "bytes_per_snapshot": r.bytesPerSnap,
				"records_per_snapshot": r.recordsPerSnap, "hub_cpu_per_snapshot_s": r.cpuPerSnap, "hub_cores": r.hubCores, "nats_cores": r.natsCores,
				"ack_p50_ms": ms(r.p50), "ack_p99_ms": ms(r.p99)},
		})
	}
	p50, p99, n, err := b.crossHubLatency(nats.urls)
	if err != nil {
		return err
	}
	b.add(Row{
		Section: sec, Name: "sample on an agent of hub A → hub B's watch stream, p50 / p99",
		Hub:     fmt.Sprintf("%s / %s (%d samples; 100 agents every 2 s)", fmtMs(p50), fmtMs(p99), n),
		Command: "make bench BENCH_ONLY=cluster",
		Values:  map[string]float64{"p50_ms": ms(p50), "p99_ms": ms(p99)},
	})
	return nil
}

type clusterRun struct {
	offered, rate                float64
	bytesPerSnap, recordsPerSnap float64
	cpuPerSnap, hubCores         float64
	natsCores                    float64
	p50, p99                     time.Duration
}

// clusterLoad drives n fresh hubs of one cluster with one load generator
// whose agents spread over them.
func (b *bench) clusterLoad(urls string, n, agents int, interval, warm, measure time.Duration) (clusterRun, error) {
	r := clusterRun{offered: float64(agents) / interval.Seconds()}
	hubs, stop, err := b.clusterHubs(urls, fmt.Sprintf("c%d", n), n)
	if n == 0 {
		hubs, stop, err = b.clusterHubs("", "plain", 1)
	}
	if err != nil {
		return r, err
	}
	defer stop()
	var list []string
	for _, h := range hubs {
		list = append(list, h.grpc)
	}
	total := warm + measure + 3*time.Second
	lg, err := b.start(fmt.Sprintf("cluster-%d-loadgen", n), nil, filepath.Join(b.bin, "gpumon-loadgen"),
		"--hub", strings.Join(list, ","), "--token", agentToken, "--profile", "dgxh100", "--agents", strconv.Itoa(agents),
		"--interval", interval.String(), "--duration", total.String(), "--prefix", fmt.Sprintf("cl%d", n), "--spread")
	if err != nil {
		return r, err
	}
	defer lg.stop()
	time.Sleep(warm)
	type point struct {
		at                    time.Time
		cpu                   time.Duration
		snaps, bytes, records float64
	}
	measureAll := func() (point, error) {
		p := point{at: time.Now()}
		for _, h := range hubs {
			p.cpu += sample(h.pid()).cpu
			counters := []struct {
				name string
				v    *float64
			}{{"gpumon_hub_snapshots_total", &p.snaps}, {`gpumon_hub_cluster_record_bytes_total{direction="out"}`, &p.bytes},
				{`gpumon_hub_cluster_records_total{direction="out"}`, &p.records}}
			if n == 0 {
				counters = counters[:1]
			}
			for _, c := range counters {
				v, err := h.counter(c.name)
				if err != nil {
					return p, err
				}
				*c.v += v
			}
		}
		return p, nil
	}
	p0, err := measureAll()
	if err != nil {
		return r, err
	}
	n0 := b.natsCPU()
	time.Sleep(measure)
	p1, err := measureAll()
	if err != nil {
		return r, err
	}
	el := p1.at.Sub(p0.at).Seconds()
	snaps := p1.snaps - p0.snaps
	r.rate = snaps / el
	r.hubCores = (p1.cpu - p0.cpu).Seconds() / el
	r.natsCores = (b.natsCPU() - n0).Seconds() / el
	if snaps > 0 {
		r.cpuPerSnap = (p1.cpu - p0.cpu).Seconds() / snaps
		r.bytesPerSnap = (p1.bytes - p0.bytes) / snaps
		r.recordsPerSnap = (p1.records - p0.records) / snaps
	}
	select {
	case <-lg.done:
	case <-time.After(total + 30*time.Second):
	}
	lg.stop()
	out, _ := os.ReadFile(lg.log.Name())
	var p50s []float64
	for _, m := range ackRe.FindAllSubmatch(out, -1) {
		p50, _ := strconv.ParseFloat(string(m[1]), 64)
		p99, _ := strconv.ParseFloat(string(m[2]), 64)
		p50s = append(p50s, p50)
		r.p99 = max(r.p99, time.Duration(p99*float64(time.Millisecond)))
	}
	r.p50 = time.Duration(median(p50s) * float64(time.Millisecond))
	return r, nil
}

// crossHubLatency: 100 agents held by hub A; one watcher with reports on
// hub B measures from each report's sample time.
func (b *bench) crossHubLatency(urls string) (p50, p99 time.Duration, n int, err error) {
	hubs, stop, err := b.clusterHubs(urls, "lat", 2)
	if err != nil {
		return 0, 0, 0, err
	}
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	w := &watcher{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); w.follow(ctx, hubs[1].url("/api/v1/watch?include_report=true"), true) }()
	defer wg.Wait()
	defer cancel()
	lg, err := b.start("cluster-lat-loadgen", nil, filepath.Join(b.bin, "gpumon-loadgen"),
		"--hub", hubs[0].grpc, "--token", agentToken, "--agents", "100", "--interval", "2s", "--duration", "5m", "--prefix", "lat", "--spread")
	if err != nil {
		return 0, 0, 0, err
	}
	defer lg.stop()
	time.Sleep(b.dur(8 * time.Second))
	from := time.Now()
	time.Sleep(b.dur(20 * time.Second))
	to := time.Now()
	time.Sleep(5 * time.Second)
	lat := w.window(from, to)
	slices.Sort(lat)
	return pct(lat, 50), pct(lat, 99), len(lat), nil
}

// clusterHubs starts n hubs of cluster name on the NATS servers urls ("":
// hubs without a cluster) and waits until each is ready (/readyz).
func (b *bench) clusterHubs(urls, name string, n int) ([]*hub, func(), error) {
	var hubs []*hub
	stop := func() {
		for _, h := range hubs {
			h.stop()
		}
	}
	for i := range n {
		var args []string
		if urls != "" {
			args = []string{"--cluster-nats", urls, "--cluster-name", name, "--cluster-hub", fmt.Sprintf("hub-%d", i+1)}
		}
		h, err := b.startHub(fmt.Sprintf("%s-hub-%d", name, i+1), args...)
		if err != nil {
			stop()
			return nil, nil, err
		}
		hubs = append(hubs, h)
		if err := waitHTTP(h.url("/readyz")); err != nil {
			stop()
			return nil, nil, fmt.Errorf("hub %d did not join the cluster: %w", i+1, err)
		}
	}
	return hubs, stop, nil
}

// natsNodes is the bench's NATS cluster.
type natsNodes struct {
	procs []*proc
	urls  string
}

func (n *natsNodes) stop() {
	for _, p := range n.procs {
		p.stop()
	}
}

// startNATS starts 3 nats-server nodes with JetStream, routed into one
// cluster, in the bench's temporary directory.
func (b *bench) startNATS() (*natsNodes, error) {
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		return nil, fmt.Errorf("the cluster section needs Debian's nats-server (apt-get install nats-server): %w", err)
	}
	ports := make([]int, 6)
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			return nil, err
		}
	}
	nodes := &natsNodes{}
	var urls []string
	for i := range 3 {
		var routes []string
		for j := range 3 {
			if j != i {
				routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", ports[3+j]))
			}
		}
		conf := filepath.Join(b.tmp, fmt.Sprintf("nats-%d.conf", i+1))
		body := fmt.Sprintf("server_name: n%d\nhost: 127.0.0.1\nport: %d\njetstream { store_dir: %q }\ncluster { name: bench, host: 127.0.0.1, port: %d, routes: [%s] }\n",
			i+1, ports[i], filepath.Join(b.tmp, fmt.Sprintf("nats-%d", i+1)), ports[3+i], strings.Join(routes, ", "))
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			return nil, err
		}
		p, err := b.start(fmt.Sprintf("nats-%d", i+1), nil, bin, "-c", conf)
		if err != nil {
			nodes.stop()
			return nil, err
		}
		nodes.procs = append(nodes.procs, p)
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", ports[i]))
	}
	nodes.urls = strings.Join(urls, ",")
	for i := range 3 {
		if err := waitTCP(fmt.Sprintf("127.0.0.1:%d", ports[i])); err != nil {
			nodes.stop()
			return nil, err
		}
	}
	b.natsProcs = nodes.procs
	return nodes, nil
}

// natsCPU is the CPU time the NATS nodes used so far.
func (b *bench) natsCPU() time.Duration {
	var t time.Duration
	for _, p := range b.natsProcs {
		t += sample(p.pid()).cpu
	}
	return t
}

func waitTCP(addr string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("nothing listens on %s after 30 s", addr)
}
