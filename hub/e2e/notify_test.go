package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpumon/gpumon/common/testdeb"
)

// hookReceiver is a webhook receiver: it answers the statuses it is given
// in turn (then 200) and keeps every body it took.
type hookReceiver struct {
	mu      sync.Mutex
	answers []int
	bodies  []map[string]any
	url     string
}

func newHookReceiver(t *testing.T, answers ...int) *hookReceiver {
	r := &hookReceiver{answers: answers}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.answers) > 0 {
			code := r.answers[0]
			r.answers = r.answers[1:]
			w.WriteHeader(code)
			return
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("webhook body is not JSON: %s", b)
		}
		r.bodies = append(r.bodies, m)
	}))
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

// posts lists "status alertname machine" of every alert received, in order,
// for the alerts named name.
func (r *hookReceiver) posts(name string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, b := range r.bodies {
		for _, a := range b["alerts"].([]any) {
			m := a.(map[string]any)
			l := m["labels"].(map[string]any)
			if l["alertname"] == name {
				out = append(out, fmt.Sprintf("%s %s %s", m["status"], l["alertname"], l["machine"]))
			}
		}
	}
	return out
}

func (r *hookReceiver) first(name, status string) map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.bodies {
		for _, a := range b["alerts"].([]any) {
			m := a.(map[string]any)
			if m["labels"].(map[string]any)["alertname"] == name && m["status"] == status {
				return b
			}
		}
	}
	return nil
}

func alertmanagerBinary(t *testing.T) string {
	t.Helper()
	if !testdeb.Ensure(t, "prometheus-alertmanager") {
		if os.Getenv("GPUMON_REQUIRE_PROMETHEUS") != "" {
			t.Fatal("prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager)")
		}
		t.Skip("prometheus-alertmanager is not installed; `make test` installs it")
	}
	bin, err := exec.LookPath("prometheus-alertmanager")
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestAlertmanagerAndWebhook: Debian's Alertmanager, told by the hub with
// Prometheus' notifier, notifies a webhook when a stopped agent's machine
// goes offline and again when it is back (the default MachineOffline
// rule); the hub's own --webhook-url posts the same alert, firing then
// resolved, in the same JSON shape as Alertmanager's.
func TestAlertmanagerAndWebhook(t *testing.T) {
	am := alertmanagerBinary(t)
	viaAM, direct := newHookReceiver(t), newHookReceiver(t)
	dir := t.TempDir()
	writeRules(t, filepath.Join(dir, "alertmanager.yml"), fmt.Sprintf(`route:
  receiver: test
  group_by: [alertname, machine]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: test
    webhook_configs:
      - url: %s/am
        send_resolved: true
`, viaAM.url))
	amAddr := freeAddr(t)
	start(t, am, "--config.file="+filepath.Join(dir, "alertmanager.yml"), "--storage.path="+filepath.Join(dir, "am"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=")
	waitFor(t, "Alertmanager ready", 60*time.Second, func() bool {
		resp, err := http.Get("http://" + amAddr + "/-/ready")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	})
	h := newHub(t, "--rule-interval", "1s", "--alertmanager-url", "http://"+amAddr, "--webhook-url", direct.url+"/hook")
	state := t.TempDir() // the machine secret, kept for the restart
	agent := startAgent(t, h, "am-a", "rtx4090x2", "--state-dir", state)
	waitFor(t, "am-a online", 30*time.Second, func() bool { _, on := online(t, h.http, "am-a"); return on })
	agent.stop()
	waitFor(t, "Alertmanager's notification of MachineOffline", 4*time.Minute, func() bool {
		return strings.Join(viaAM.posts("MachineOffline"), ",") == "firing MachineOffline am-a" &&
			strings.Join(direct.posts("MachineOffline"), ",") == "firing MachineOffline am-a"
	})
	fromAM, ours := viaAM.first("MachineOffline", "firing"), direct.first("MachineOffline", "firing")
	sameShape(t, "webhook", ours, fromAM)
	a, b := ours["alerts"].([]any)[0].(map[string]any), fromAM["alerts"].([]any)[0].(map[string]any)
	for _, k := range []string{"labels", "annotations", "status", "fingerprint"} {
		if fmt.Sprint(a[k]) != fmt.Sprint(b[k]) {
			t.Errorf("alert %s: ours %v, Alertmanager's %v", k, a[k], b[k])
		}
	}

	startAgent(t, h, "am-a", "rtx4090x2", "--state-dir", state)
	waitFor(t, "the resolved notifications", 2*time.Minute, func() bool {
		return strings.Join(viaAM.posts("MachineOffline"), ",") == "firing MachineOffline am-a,resolved MachineOffline am-a" &&
			strings.Join(direct.posts("MachineOffline"), ",") == "firing MachineOffline am-a,resolved MachineOffline am-a"
	})
	metrics := getText(t, h.http+"/metrics")
	for _, want := range []string{`prometheus_notifications_sent_total{alertmanager="http://` + amAddr + `/api/v2/alerts"}`,
		`gpumon_hub_webhook_notifications_total{result="sent",webhook="webhook-1"}`, "prometheus_rule_evaluations_total"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

const downRule = `groups:
  - name: down
    rules:
      - alert: Down
        expr: gpumon_machine_up == 0
        for: 2s
        labels:
          severity: critical
`

// alertsAPI returns the hub's /api/v1/alerts alerts named name.
func alertsAPI(t *testing.T, h *hub, name string) []map[string]any {
	t.Helper()
	var r struct {
		Data struct{ Alerts []map[string]any }
	}
	getJSON(t, h.http+"/api/v1/alerts", &r)
	var out []map[string]any
	for _, a := range r.Data.Alerts {
		if a["labels"].(map[string]any)["alertname"] == name {
			out = append(out, a)
		}
	}
	return out
}

// TestWebhookOutageAndRestart: a webhook that fails is retried until it
// takes the alert, and the failures show on /metrics; a hub restarted while
// the alert fires restores it (same activeAt) and does not post it again;
// it posts the resolution once the machine is back.
func TestWebhookOutageAndRestart(t *testing.T) {
	rcv := newHookReceiver(t, 503, 502)
	dir, rules := t.TempDir(), filepath.Join(t.TempDir(), "down.yml")
	writeRules(t, rules, downRule)
	flags := []string{"--default-rules=false", "--rules", rules, "--rule-interval", "1s", "--webhook-url", rcv.url}
	h := startHub(t, dir, freeAddr(t), freeAddr(t), flags...)
	state := t.TempDir() // the machine secret, kept for the restart
	agent := startAgent(t, h, "wh-a", "rtx4090x2", "--state-dir", state)
	waitFor(t, "wh-a online", 30*time.Second, func() bool { _, on := online(t, h.http, "wh-a"); return on })
	agent.stop()
	waitFor(t, "the firing post after two failures", 2*time.Minute, func() bool { return len(rcv.posts("Down")) == 1 })
	metrics := getText(t, h.http+"/metrics")
	for _, want := range []string{`gpumon_hub_webhook_notifications_total{result="failed",webhook="webhook-1"} 2`,
		`gpumon_hub_webhook_notifications_total{result="sent",webhook="webhook-1"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	before := alertsAPI(t, h, "Down")
	if len(before) != 1 || before[0]["state"] != "firing" {
		t.Fatalf("alerts before the restart: %v", before)
	}
	h.stop()

	h = startHub(t, dir, freeAddr(t), freeAddr(t), flags...)
	waitFor(t, "the alert restored and firing", 2*time.Minute, func() bool {
		as := alertsAPI(t, h, "Down")
		return len(as) == 1 && as[0]["state"] == "firing"
	})
	activeAt, _ := time.Parse(time.RFC3339Nano, before[0]["activeAt"].(string))
	again, _ := time.Parse(time.RFC3339Nano, alertsAPI(t, h, "Down")[0]["activeAt"].(string))
	if !again.Equal(activeAt.Truncate(time.Second)) {
		t.Errorf("active since %v after the restart, want %v restored", again, activeAt.Truncate(time.Second))
	}
	time.Sleep(5 * time.Second) // many comparisons of what fires with what was posted
	if got := rcv.posts("Down"); len(got) != 1 {
		t.Errorf("posts after the restart: %v, want the one firing post only", got)
	}
	startAgent(t, h, "wh-a", "rtx4090x2", "--state-dir", state)
	waitFor(t, "the resolved post", 2*time.Minute, func() bool { return len(rcv.posts("Down")) == 2 })
	if got := strings.Join(rcv.posts("Down"), ","); got != "firing Down wh-a,resolved Down wh-a" {
		t.Errorf("posts %s", got)
	}
}
