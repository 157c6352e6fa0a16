package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// receiver is a webhook receiver that answers with the statuses it is
// given in turn (then 200) and keeps every body it was sent.
type receiver struct {
	mu      sync.Mutex
	answers []int
	bodies  []map[string]any
	srv     *httptest.Server
}

func newReceiver(t *testing.T, answers ...int) *receiver {
	r := &receiver{answers: answers}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		code := http.StatusOK
		if len(r.answers) > 0 {
			code, r.answers = r.answers[0], r.answers[1:]
		}
		if req.Header.Get("Content-Type") != "application/json" {
			code = http.StatusUnsupportedMediaType
		}
		if code == http.StatusOK {
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Errorf("body is not JSON: %s", b)
			}
			r.bodies = append(r.bodies, m)
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) got() []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]map[string]any(nil), r.bodies...)
}

// source is a set of firing alerts the test changes.
type source struct {
	mu    sync.Mutex
	fire  []Alert
	ready bool
}

func (s *source) set(ready bool, fire ...Alert) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fire, s.ready = fire, ready
}

func (s *source) get() ([]Alert, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Alert(nil), s.fire...), s.ready
}

var since = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

func alertNamed(name, host string) Alert {
	return Alert{Labels: map[string]string{"alertname": name, "Hostname": host, "machine": host, "severity": "critical"},
		Annotations: map[string]string{"summary": host + " is offline", "description": "no report for a minute"}, StartsAt: since}
}

type run struct {
	s    *Sender
	reg  *prometheus.Registry
	stop func()
}

func startSender(t *testing.T, dir string, src *source, f Format, urls ...string) run {
	t.Helper()
	reg := prometheus.NewRegistry()
	s, err := New(Options{URLs: urls, Format: f, StateDir: dir, Every: 20 * time.Millisecond, MinBackoff: 10 * time.Millisecond,
		MaxBackoff: 50 * time.Millisecond, Registerer: reg}, src.get)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	stop := sync.OnceFunc(func() { cancel(); <-done })
	t.Cleanup(stop)
	return run{s: s, reg: reg, stop: stop}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

func statuses(bodies []map[string]any) string {
	var out []string
	for _, b := range bodies {
		a := b["alerts"].([]any)[0].(map[string]any)
		out = append(out, a["labels"].(map[string]any)["Hostname"].(string)+":"+b["status"].(string))
	}
	return strings.Join(out, " ")
}

// TestFiringThenResolvedOnce: each alert is posted once when it fires and
// once when it is resolved, in Alertmanager's webhook format, however
// often the alerts are compared; nothing is posted before the source is
// ready.
func TestFiringThenResolvedOnce(t *testing.T) {
	rcv := newReceiver(t)
	src := &source{}
	src.set(false, alertNamed("MachineOffline", "n1"))
	r := startSender(t, t.TempDir(), src, Alertmanager, rcv.srv.URL+"/hook")
	time.Sleep(100 * time.Millisecond) // several comparisons while not ready
	if got := rcv.got(); len(got) != 0 {
		t.Fatalf("posted before ready: %v", got)
	}
	src.set(true, alertNamed("MachineOffline", "n1"))
	waitFor(t, "the firing post", func() bool { return len(rcv.got()) == 1 })
	time.Sleep(100 * time.Millisecond)
	src.set(true)
	waitFor(t, "the resolved post", func() bool { return len(rcv.got()) == 2 })
	time.Sleep(100 * time.Millisecond)
	got := rcv.got()
	if s := statuses(got); s != "n1:firing n1:resolved" {
		t.Fatalf("posts: %s, want one firing then one resolved", s)
	}
	fire, res := got[0], got[1]
	a := fire["alerts"].([]any)[0].(map[string]any)
	for k, want := range map[string]any{"receiver": "gpumon", "version": "4", "truncatedAlerts": 0.0, "externalURL": ""} {
		if fire[k] != want {
			t.Errorf("%s = %v, want %v", k, fire[k], want)
		}
	}
	if a["startsAt"] != "2026-12-01T08:00:00Z" || a["endsAt"] != "0001-01-01T00:00:00Z" || a["status"] != "firing" ||
		a["fingerprint"] != alertNamed("MachineOffline", "n1").Fingerprint() || fire["commonAnnotations"].(map[string]any)["summary"] != "n1 is offline" {
		t.Errorf("firing alert %v", a)
	}
	if !strings.HasPrefix(fire["groupKey"].(string), `{}:{Hostname="n1"`) {
		t.Errorf("groupKey %v", fire["groupKey"])
	}
	ra := res["alerts"].([]any)[0].(map[string]any)
	if ra["status"] != "resolved" || ra["endsAt"] == "0001-01-01T00:00:00Z" {
		t.Errorf("resolved alert %v", ra)
	}
	waitFor(t, "two posts counted as sent", func() bool {
		return testutil.ToFloat64(r.s.targets[0].stats.notifications.WithLabelValues("webhook-1", "sent")) == 2
	})
}

// TestOutageRetried: a receiver that fails is retried with backoff until
// it takes the post, the failures are counted, and order is kept.
func TestOutageRetried(t *testing.T) {
	rcv := newReceiver(t, 503, 503, 502, 500)
	src := &source{}
	src.set(true, alertNamed("MachineOffline", "n1"))
	r := startSender(t, t.TempDir(), src, Alertmanager, rcv.srv.URL)
	waitFor(t, "the post after the outage", func() bool { return len(rcv.got()) == 1 })
	src.set(true, alertNamed("MachineOffline", "n2"))
	waitFor(t, "n1 resolved and n2 firing", func() bool { return len(rcv.got()) == 3 })
	if s := statuses(rcv.got()); s != "n1:firing n1:resolved n2:firing" && s != "n1:firing n2:firing n1:resolved" {
		t.Errorf("posts %s", s)
	}
	if n := testutil.ToFloat64(r.s.targets[0].stats.notifications.WithLabelValues("webhook-1", "failed")); n != 4 {
		t.Errorf("failed = %v, want 4", n)
	}
	// The receiver has the post before the sender has its answer.
	waitFor(t, "an empty queue after delivery", func() bool {
		return testutil.ToFloat64(r.s.targets[0].stats.queue.WithLabelValues("webhook-1")) == 0
	})
}

// TestRefusedNotRetried: a 4xx answer is not retried: the next alert goes
// out, and the refusal is counted.
func TestRefusedNotRetried(t *testing.T) {
	rcv := newReceiver(t, 400)
	src := &source{}
	src.set(true, alertNamed("A", "n1"))
	r := startSender(t, t.TempDir(), src, Alertmanager, rcv.srv.URL)
	waitFor(t, "the refusal", func() bool {
		return testutil.ToFloat64(r.s.targets[0].stats.notifications.WithLabelValues("webhook-1", "rejected")) == 1
	})
	src.set(true, alertNamed("A", "n1"), alertNamed("A", "n2"))
	waitFor(t, "the next alert", func() bool { return len(rcv.got()) == 1 })
	if s := statuses(rcv.got()); s != "n2:firing" {
		t.Errorf("posts %s", s)
	}
}

// TestRestartNeitherRepeatsNorForgets: a Sender started again over the
// same state does not post again what still fires, posts resolved for
// what stopped firing while it was away, and a slow receiver never sees an
// alert twice.
func TestRestartNeitherRepeatsNorForgets(t *testing.T) {
	dir := t.TempDir()
	rcv := newReceiver(t)
	src := &source{}
	src.set(true, alertNamed("A", "n1"), alertNamed("A", "n2"))
	r := startSender(t, dir, src, Alertmanager, rcv.srv.URL)
	waitFor(t, "two firing posts", func() bool { return len(rcv.got()) == 2 })
	// The receiver has a post before the sender has its answer and keeps it.
	waitFor(t, "both kept as told", func() bool {
		return testutil.ToFloat64(r.s.targets[0].stats.notifications.WithLabelValues("webhook-1", "sent")) == 2
	})
	r.stop()

	src.set(false) // the restarted hub does not know yet
	src2 := &source{}
	src2.set(false)
	startSender(t, dir, src2, Alertmanager, rcv.srv.URL)
	time.Sleep(100 * time.Millisecond)
	src2.set(true, alertNamed("A", "n2")) // n1 was resolved while the hub was down
	waitFor(t, "n1 resolved", func() bool { return len(rcv.got()) == 3 })
	time.Sleep(100 * time.Millisecond)
	if s := statuses(rcv.got()[2:]); s != "n1:resolved" {
		t.Errorf("after the restart: %s, want n1 resolved only", s)
	}
	// Another URL has its own state: it is told what fires.
	other := newReceiver(t)
	startSender(t, dir, src2, Alertmanager, other.srv.URL)
	waitFor(t, "the other receiver's post", func() bool { return len(other.got()) == 1 })
	if s := statuses(other.got()); s != "n2:firing" {
		t.Errorf("other receiver: %s", s)
	}
	waitFor(t, "one state file per URL", func() bool { entries, _ := os.ReadDir(dir); return len(entries) == 2 })
}

// TestChatFormats: the chat formats carry one text message with the status,
// summary, description and time; Feishu's and DingTalk's error answers are
// refusals, not successes.
func TestChatFormats(t *testing.T) {
	m := message{status: firing, fp: "x", alert: alertNamed("MachineOffline", "n1")}
	want := "gpumon [FIRING] n1 is offline\nno report for a minute\nsince 2026-12-01 08:00:00 UTC"
	for f, path := range map[Format][]string{Slack: {"text"}, Feishu: {"content", "text"}, DingTalk: {"text", "content"}} {
		b, err := body(f, m, "")
		if err != nil {
			t.Fatal(err)
		}
		var v any
		_ = json.Unmarshal(b, &v)
		for _, k := range path {
			v = v.(map[string]any)[k]
		}
		if v != want {
			t.Errorf("%s: %q, want %q (%s)", f, v, want, b)
		}
	}
	m.status, m.endsAt = resolved, since.Add(90*time.Second)
	if got := text(m); !strings.HasPrefix(got, "gpumon [RESOLVED] n1 is offline") || !strings.HasSuffix(got, "from 2026-12-01 08:00:00 UTC to 2026-12-01 08:01:30 UTC") {
		t.Errorf("resolved text %q", got)
	}
	for reply, want := range map[string]string{`{"code":0,"msg":"success"}`: "", `{"errcode":0,"errmsg":"ok"}`: "", "ok": "",
		`{"code":19024,"msg":"Key Words Not Found"}`: "code 19024 Key Words Not Found", `{"errcode":310000,"errmsg":"keywords not in content"}`: "errcode 310000 keywords not in content"} {
		if got := bodyError([]byte(reply)); got != want {
			t.Errorf("bodyError(%s) = %q, want %q", reply, got, want)
		}
	}
	if _, err := ParseFormat("teams"); err == nil {
		t.Error("unknown format accepted")
	}
}
