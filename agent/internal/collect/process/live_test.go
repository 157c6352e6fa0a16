package process

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gpumon/gpumon/agent/internal/collect"
)

func liveCollector(t testing.TB) *Collector {
	t.Helper()
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc here")
	}
	return New(nil, WithProcRoot("/proc"), WithHostRoot("/"))
}

func TestLiveBusyProcessUsesCPU(t *testing.T) {
	c := liveCollector(t)
	self := int32(os.Getpid())
	collectByPID(t, c)
	stop := time.Now().Add(300 * time.Millisecond)
	done := make(chan int)
	go func() {
		n := 0
		for time.Now().Before(stop) {
			n++
		}
		done <- n
	}()
	<-done
	ps := collectByPID(t, c)
	p := ps[self]
	if p == nil {
		t.Fatal("own process not listed")
	}
	if p.CpuPercent <= 0 {
		t.Errorf("cpu_percent of a busy process = %v, want > 0", p.CpuPercent)
	}
	if p.Rss <= 0 || p.MemoryPercent <= 0 || p.Username == "" || p.Cmdline == "" || p.CreateTime <= 0 {
		t.Errorf("own process = %v", p)
	}
	if ps[int32(os.Getppid())] == nil {
		t.Error("parent process not listed")
	}
}

// TestLivePIDStateDropped: the collector keeps state only for the processes
// of its latest scan. A real child process is seen, then exits (and is
// reaped); the next scan drops its state. Checking /proc after the scan
// instead would race with every other process on the machine exiting.
func TestLivePIDStateDropped(t *testing.T) {
	c := liveCollector(t)
	child := exec.Command("sleep", "60")
	if err := child.Start(); err != nil {
		t.Skipf("cannot start a child process: %v", err)
	}
	pid := int32(child.Process.Pid)
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	ps := collectByPID(t, c)
	if ps[pid] == nil || c.procs[pid] == nil {
		t.Fatalf("the running child %d is not listed", pid)
	}
	for p, e := range c.procs {
		if ps[p] == nil || e.seen != c.gen {
			t.Errorf("state kept for pid %d, which this scan did not list", p)
		}
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait() // reaped: /proc/<pid> is gone
	// Fake state for a pid that cannot exist is dropped too.
	c.procs[1<<30] = &entry{pid: 1 << 30}
	ps = collectByPID(t, c)
	if _, ok := c.procs[pid]; ok || ps[pid] != nil {
		t.Errorf("state of the exited child %d kept", pid)
	}
	if _, ok := c.procs[1<<30]; ok {
		t.Error("state of a vanished pid kept")
	}
}

// BenchmarkReadStatFloor is the floor the scan is measured against: list
// /proc and read every /proc/<pid>/stat, nothing else.
func BenchmarkReadStatFloor(b *testing.B) {
	var l pidLister
	buf := make([]byte, 4096)
	var pids []int32
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if pids, err = l.list("/proc", pids[:0]); err != nil {
			b.Fatal(err)
		}
		for _, pid := range pids {
			_, _ = readInto("/proc/"+strconv.Itoa(int(pid))+"/stat", buf)
		}
	}
	b.ReportMetric(float64(len(pids)), "procs")
}

// BenchmarkCollectProcesses measures one steady-state scan: every process
// already known, as on every sample after the first.
func BenchmarkCollectProcesses(b *testing.B) {
	b.Run("live", func(b *testing.B) {
		benchCollect(b, liveCollector(b))
	})
	b.Run("fixture", func(b *testing.B) {
		benchCollect(b, New(nil, WithProcRoot(filepath.Join("testdata", "root", "proc")),
			WithTmuxLister(fakeTmux(nil))))
	})
}

// BenchmarkCollectProcessesCold measures a first scan, reading every
// process's command line, user, cgroup and session.
func BenchmarkCollectProcessesCold(b *testing.B) {
	for b.Loop() {
		c := liveCollector(b)
		var s collect.Sample
		if err := c.Collect(context.Background(), &s); err != nil {
			b.Fatal(err)
		}
	}
}

func benchCollect(b *testing.B, c *Collector) {
	var s collect.Sample
	if err := c.Collect(context.Background(), &s); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Collect(context.Background(), &s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(s.Processes)), "procs")
}
