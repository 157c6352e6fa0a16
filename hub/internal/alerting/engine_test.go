package alerting

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
	"github.com/gpumon/gpumon/hub/internal/history"
)

var defaultNames = []string{"MachineOffline", "GpuIdleHeld", "GpuTooHot", "GpuEccUncorrectable", "GpuXidError", "GpuFree", "DiskAlmostFull"}

// TestDefaultRules: the default rules parse as Prometheus parses rule
// files, for the flags' values, and carry those values.
func TestDefaultRules(t *testing.T) {
	for _, d := range []Defaults{{IdleAfter: 30 * time.Minute, HotCelsius: 85}, {IdleAfter: 1500 * time.Millisecond, HotCelsius: 72.5}} {
		content, err := DefaultRules(d)
		if err != nil {
			t.Fatal(err)
		}
		groups, errs := rulefmt.Parse(content, false, model.UTF8Validation, parser.NewParser(parser.Options{}), promslog.NewNopLogger())
		if len(errs) > 0 {
			t.Fatalf("%+v: %v", d, errs)
		}
		var names []string
		exprs := map[string]string{}
		for _, r := range groups.Groups[0].Rules {
			names = append(names, r.Alert)
			exprs[r.Alert] = r.Expr
		}
		if !slices.Equal(names, defaultNames) {
			t.Errorf("rules %v, want %v", names, defaultNames)
		}
		if want := "gpumon_gpu_idle_held_seconds >= " + trimFloat(d.IdleAfter.Seconds()); exprs["GpuIdleHeld"] != want {
			t.Errorf("GpuIdleHeld: %q, want %q", exprs["GpuIdleHeld"], want)
		}
		if want := "DCGM_FI_DEV_GPU_TEMP >= " + trimFloat(d.HotCelsius); exprs["GpuTooHot"] != want {
			t.Errorf("GpuTooHot: %q, want %q", exprs["GpuTooHot"], want)
		}
	}
}

func trimFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBrokenFilesRefused: New refuses a broken rule file with its name,
// the line and the reason, as the hub's start does.
func TestBrokenFilesRefused(t *testing.T) {
	dir := t.TempDir()
	cases := []struct{ name, content, want string }{
		{"bad-yaml.yml", "groups:\n  - name: g\n    rules:\n      - alert: A\n       expr: up\n", "line 3"},
		{"bad-expr.yml", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: rate(up[5m]\n", "5:15"},
		{"unknown-field.yml", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        fore: 1m\n", "field fore not found"},
		{"bad-template.yml", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        annotations:\n          summary: \"{{ $labels.x \"\n", "template"},
		{"record-and-alert.yml", "groups:\n  - name: g\n    rules:\n      - alert: A\n        record: b\n        expr: up\n", "only one of 'record' and 'alert'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			writeFile(t, path, tc.content)
			_, err := New(Config{Patterns: []string{path}, DataDir: dir})
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one naming %s and %q", err, path, tc.want)
			}
		})
	}
	t.Run("a missing file", func(t *testing.T) {
		_, err := New(Config{Patterns: []string{filepath.Join(dir, "nope.yml")}, DataDir: dir})
		if err == nil || !strings.Contains(err.Error(), "nope.yml") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("a glob that matches nothing yet", func(t *testing.T) {
		if _, err := New(Config{Patterns: []string{filepath.Join(dir, "later", "*.yml")}, DataDir: dir}); err != nil {
			t.Errorf("err = %v, want none: files may come later", err)
		}
	})
	t.Run("a bad glob", func(t *testing.T) {
		if _, err := New(Config{Patterns: []string{filepath.Join(dir, "[")}, DataDir: dir}); err == nil {
			t.Error("no error")
		}
	})
}

// harness runs engines over one history store.
type harness struct {
	t     *testing.T
	dir   string
	store *history.Store
	m     *fleet.Machine
}

func newHarness(t *testing.T) *harness {
	dir := t.TempDir()
	s, err := history.Open(filepath.Join(dir, "tsdb"), history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f := fleet.New(nil)
	m, _ := f.Attach(fleet.Hello{Hello: &gpumonv1.Hello{Hostname: "n1", MachineId: "n1", Epoch: 1}, Interval: time.Second, Conn: fleet.NewAgentConn(false)})
	return &harness{t: t, dir: dir, store: s, m: m}
}

// start runs an engine on files until the test ends or stop is called.
func (h *harness) start(files ...string) (*Engine, func()) {
	h.t.Helper()
	e, err := New(Config{Patterns: files, DataDir: h.dir, Interval: 200 * time.Millisecond, PollEvery: 100 * time.Millisecond,
		Engine: h.store.Engine(), Store: h.store})
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); e.Run(ctx) }()
	stop := sync.OnceFunc(func() { cancel(); wg.Wait() })
	h.t.Cleanup(stop)
	return e, stop
}

// offline keeps writing the machine's online series as 0 until the test
// ends or the returned func is called.
func (h *harness) offline() func() {
	done := make(chan struct{})
	go func() {
		for {
			h.store.RecordUp(h.m, false, time.Now())
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	stop := sync.OnceFunc(func() { close(done) })
	h.t.Cleanup(stop)
	return stop
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

const downRule = `groups:
  - name: test
    rules:
      - alert: Down
        expr: gpumon_machine_up == 0
        for: 1s
        labels:
          severity: critical
        annotations:
          summary: "{{ $labels.Hostname }} is down"
`

// TestAlertFiresAndStateSurvivesARestart: an alert fires after its "for",
// ListAlerts describes it, and an engine started again over the same store
// restores since when it is active (ALERTS_FOR_STATE), as Prometheus does:
// the alert is the same alert, not a new one.
func TestAlertFiresAndStateSurvivesARestart(t *testing.T) {
	h := newHarness(t)
	path := filepath.Join(h.dir, "rules.yml")
	writeFile(t, path, downRule)
	h.offline()
	e, stop := h.start(path)
	var first *gpumonv1.Alert
	waitFor(t, "the alert to fire", func() bool {
		as := e.ListAlerts(&gpumonv1.ListAlertsRequest{}).GetAlerts()
		if len(as) == 1 {
			first = as[0]
		}
		return first != nil
	})
	if first.GetName() != "Down" || first.GetState() != "firing" || first.GetMachine() != "n1" || first.GetHostname() != "n1" ||
		first.GetSeverity() != "critical" || first.GetAnnotations()["summary"] != "n1 is down" || first.Gpu != nil ||
		first.GetFiredAt().AsTime().Sub(first.GetActiveAt().AsTime()) < time.Second {
		t.Errorf("alert %+v", first)
	}
	waitFor(t, "Firing to be ready and list the alert", func() bool {
		fire, ready := e.Firing()
		return ready && len(fire) == 1
	})
	stop()

	e2, _ := h.start(path)
	var again *gpumonv1.Alert
	waitFor(t, "the restarted engine to restore its rules' state", func() bool {
		fire, ready := e2.Firing()
		if ready && len(fire) != 1 {
			t.Fatalf("ready with %d alerts firing: a restored alert must fire when the state is known", len(fire))
		}
		return ready
	})
	waitFor(t, "the alert to fire again", func() bool {
		as := e2.ListAlerts(&gpumonv1.ListAlertsRequest{}).GetAlerts()
		if len(as) == 1 {
			again = as[0]
		}
		return again != nil
	})
	if want := first.GetActiveAt().AsTime().Truncate(time.Second); !again.GetActiveAt().AsTime().Equal(want) {
		t.Errorf("after the restart active since %v, want %v restored", again.GetActiveAt().AsTime(), want)
	}
}

// TestPendingAlertsListedWhenAsked: before its "for" an alert is pending:
// listed only with include_pending, and never for another machine.
func TestPendingAlertsListedWhenAsked(t *testing.T) {
	h := newHarness(t)
	path := filepath.Join(h.dir, "rules.yml")
	writeFile(t, path, strings.Replace(downRule, "for: 1s", "for: 1h", 1))
	h.offline()
	e, _ := h.start(path)
	waitFor(t, "a pending alert", func() bool {
		return len(e.ListAlerts(&gpumonv1.ListAlertsRequest{IncludePending: true}).GetAlerts()) == 1
	})
	if as := e.ListAlerts(&gpumonv1.ListAlertsRequest{}).GetAlerts(); len(as) != 0 {
		t.Errorf("pending listed without include_pending: %v", as)
	}
	if as := e.ListAlerts(&gpumonv1.ListAlertsRequest{IncludePending: true, Machine: "n2"}).GetAlerts(); len(as) != 0 {
		t.Errorf("n1's alert listed for n2: %v", as)
	}
	if r := e.ListAlerts(&gpumonv1.ListAlertsRequest{}).GetRules(); r != 1 {
		t.Errorf("rules = %d, want 1", r)
	}
}

func ruleNames(e *Engine) []string {
	var out []string
	for _, g := range e.RuleGroups() {
		for _, r := range g.Rules() {
			out = append(out, r.Name())
		}
	}
	return out
}

// TestReload: a broken file is refused on SIGHUP and when it changes on
// disk, and the previous rules keep running; a good one replaces them.
func TestReload(t *testing.T) {
	h := newHarness(t)
	path := filepath.Join(h.dir, "rules.yml")
	rule := func(name string) string {
		return "groups:\n  - name: g\n    rules:\n      - alert: " + name + "\n        expr: vector(1)\n"
	}
	writeFile(t, path, rule("First"))
	e, _ := h.start(path)
	waitFor(t, "the first rules", func() bool { return slices.Equal(ruleNames(e), []string{"First"}) })

	writeFile(t, path, rule("Second")+"        for: [\n")
	if err := e.Reload(); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("reload of a broken file: %v", err)
	}
	time.Sleep(300 * time.Millisecond) // a poll or two: the broken file must not be loaded by one either
	if got := ruleNames(e); !slices.Equal(got, []string{"First"}) {
		t.Errorf("after a broken file: %v, want the previous rules", got)
	}
	writeFile(t, path, rule("Second"))
	if err := e.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := ruleNames(e); !slices.Equal(got, []string{"Second"}) {
		t.Errorf("after a good file: %v", got)
	}
	// Changed on disk, without SIGHUP: picked up by the poll.
	writeFile(t, path, rule("Third"))
	waitFor(t, "the changed file to be loaded", func() bool { return slices.Equal(ruleNames(e), []string{"Third"}) })
	// A new file matching a glob is picked up too.
	glob := filepath.Join(h.dir, "more", "*.yml")
	if err := os.MkdirAll(filepath.Dir(glob), 0o755); err != nil {
		t.Fatal(err)
	}
	e2, _ := h.start(glob)
	writeFile(t, filepath.Join(h.dir, "more", "a.yml"), rule("Fourth"))
	waitFor(t, "a new file of the glob", func() bool { return slices.Equal(ruleNames(e2), []string{"Fourth"}) })
}

// TestDefaultRulesFile: the default rules are written into the data
// directory and loaded; turned off, the file is removed.
func TestDefaultRulesFile(t *testing.T) {
	h := newHarness(t)
	e, err := New(Config{DefaultRules: true, Defaults: Defaults{IdleAfter: time.Hour, HotCelsius: 90}, DataDir: h.dir, Engine: h.store.Engine(), Store: h.store})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	waitFor(t, "the default rules", func() bool { return slices.Equal(ruleNames(e), defaultNames) })
	cancel()
	<-done
	path := filepath.Join(h.dir, DefaultRulesFile)
	if b, err := os.ReadFile(path); err != nil || !strings.Contains(string(b), ">= 3600") || !strings.Contains(string(b), ">= 90") {
		t.Errorf("default rules file: %v\n%s", err, b)
	}
	if _, err := New(Config{DataDir: h.dir, Engine: h.store.Engine(), Store: h.store}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("default rules file left with --default-rules=false: %v", err)
	}
}
