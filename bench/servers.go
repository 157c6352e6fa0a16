package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a process the harness started.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// stop ends the process with SIGTERM (SIGKILL after 10 s) and waits.
func (p *proc) stop() {
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	if p.log != nil {
		p.log.Close()
	}
}

// start runs a command with its stderr in a log file; stdout goes to out
// (a log file when nil).
func (b *bench) start(name string, out io.Writer, bin string, args ...string) (*proc, error) {
	log, err := os.Create(filepath.Join(b.tmp, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = log
	cmd.Stdout = log
	if out != nil {
		cmd.Stdout = out
	}
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), log: log}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

// hub is a running gpumon-hub.
type hub struct {
	*proc
	http, grpc string // host:port
}

const agentToken = "bench-agent-token-0123456789abcdef"

var (
	restRe = regexp.MustCompile(`web UI and REST:\s+https?://(\S+)/`)
	grpcRe = regexp.MustCompile(`gRPC for agents:\s+(\S+)`)
)

// startHub starts a hub with a fresh data dir on free loopback ports.
func (b *bench) startHub(name string, extra ...string) (*hub, error) {
	dir := filepath.Join(b.tmp, name+"-data")
	_ = os.RemoveAll(dir)
	pr, pw := io.Pipe()
	p, err := b.start(name, pw, filepath.Join(b.bin, "gpumon-hub"), append([]string{
		"--http-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0", "--data-dir", dir,
		"--agent-token", agentToken, "--legacy-open", "--log-level", "warn",
		// The load generator's agents send faster than real ones, all from
		// one address, and the watch section's 101 watchers share one
		// address too; the per-machine rate and the per-address connection
		// and watcher limits are not what is measured here.
		"--max-snapshot-rate", "1000", "--max-snapshot-burst", "100000", "--max-connections-per-address", "0",
		"--max-watchers-per-client", "1000"}, extra...)...)
	if err != nil {
		return nil, err
	}
	h := &hub{proc: p}
	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(p.log, line)
			if m := restRe.FindStringSubmatch(line); m != nil {
				h.http = m[1]
			}
			if m := grpcRe.FindStringSubmatch(line); m != nil {
				h.grpc = m[1]
				close(found)
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	select {
	case <-found:
	case <-p.done:
		return nil, fmt.Errorf("hub %s exited at start (see %s)", name, p.log.Name())
	case <-time.After(30 * time.Second):
		p.stop()
		return nil, fmt.Errorf("hub %s did not start within 30 s", name)
	}
	if err := waitHTTP("http://" + h.http + "/healthz"); err != nil {
		p.stop()
		return nil, err
	}
	return h, nil
}

func (h *hub) url(path string) string { return "http://" + h.http + path }

// counter reads one counter from the hub's /metrics.
func (h *hub) counter(name string) (float64, error) {
	resp, err := http.Get(h.url("/metrics"))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("no %s in /metrics", name)
}

// startBaseline starts the original design's server on a free port.
func (b *bench) startBaseline(name string) (*proc, string, error) {
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	p, err := b.start(name, nil, "python3", filepath.Join(b.root, "bench", "baseline", "server.py"), strconv.Itoa(port))
	if err != nil {
		return nil, "", err
	}
	base := fmt.Sprintf("127.0.0.1:%d", port)
	if err := waitHTTP("http://" + base + "/api/gpu-stats"); err != nil {
		p.stop()
		return nil, "", fmt.Errorf("baseline: %w (see %s)", err, p.log.Name())
	}
	return p, base, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func waitHTTP(url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := get(ctx, http.DefaultClient, url, false)
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("no answer from " + url + " within 30 s")
}

// usage samples a process's CPU time and RSS.
type usage struct {
	at  time.Time
	cpu time.Duration
	rss int64
}

func sample(pid int) usage {
	u := usage{at: time.Now()}
	u.cpu, _ = cpuTime(pid)
	u.rss, _ = rss(pid)
	return u
}
