// Package testproc runs gpumon's binaries, built from this checkout, as
// processes for end-to-end tests: each ends with its test, and its output is
// logged when the test fails.
package testproc

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Packages returns the main packages of every gpumon binary, hub and
// agent first.
func Packages() []string {
	return []string{
		"github.com/gpumon/gpumon/hub/cmd/gpumon-hub",
		"github.com/gpumon/gpumon/agent/cmd/gpumon-agent",
		"github.com/gpumon/gpumon/agent/cmd/gpumon-loadgen",
		"github.com/gpumon/gpumon/gateway/cmd/gpumon-gateway",
		"github.com/gpumon/gpumon/cli/cmd/gpumon",
	}
}

// Build builds pkgs into dir with ldflags (may be empty).
func Build(dir, ldflags string, pkgs ...string) error {
	args := []string{"build", "-o", dir + string(os.PathSeparator)}
	if ldflags != "" {
		args = append(args, "-ldflags", ldflags)
	}
	cmd := exec.Command("go", append(args, pkgs...)...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %v: %w", pkgs, err)
	}
	return nil
}

// Proc is a background process and its combined output.
type Proc struct {
	Cmd  *exec.Cmd
	t    *testing.T
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

// Write collects the process's output.
func (p *Proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

// Output is what the process printed so far.
func (p *Proc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// String is Output, so a Proc prints as its output.
func (p *Proc) String() string { return p.Output() }

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Kill ends the process with SIGKILL and waits for it.
func (p *Proc) Kill() {
	_ = p.Cmd.Process.Kill()
	<-p.done
}

// Stop sends SIGTERM and waits up to 10 s; a process still running then
// fails the test and is killed.
func (p *Proc) Stop() {
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.t.Errorf("%s did not exit within 10 s of SIGTERM", p.Cmd.Path)
		p.Kill()
	}
}

// Start runs path with args until the test ends. A gpumon-agent gets a
// state directory of its own (its machine secret) unless args name one.
func Start(t *testing.T, path string, args ...string) *Proc {
	t.Helper()
	if filepath.Base(path) == "gpumon-agent" && !slices.Contains(args, "--state-dir") {
		args = append(args, "--state-dir", t.TempDir())
	}
	p := &Proc{Cmd: exec.Command(path, args...), t: t, done: make(chan struct{})}
	p.Cmd.Stdout, p.Cmd.Stderr = p, p
	if err := p.Cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	go func() { _ = p.Cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("output of %s %s:\n%s", filepath.Base(path), strings.Join(args, " "), p.Output())
		}
	})
	return p
}

// FreeAddr is a loopback address no one listens on right now.
func FreeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// WaitFor polls cond every 100 ms and fails the test once timeout has
// passed; it returns how long cond took to hold.
func WaitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) time.Duration {
	t.Helper()
	begin := time.Now()
	for !cond() {
		if time.Since(begin) > timeout {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(begin)
}
