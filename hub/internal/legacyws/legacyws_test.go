package legacyws

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// wsHub is a fleet behind the /ws handler on a loopback server.
type wsHub struct {
	fleet    *fleet.Fleet
	url      string
	stopping chan struct{}
}

func newWSHub(t *testing.T, tune func(*Handler)) *wsHub {
	t.Helper()
	h := &wsHub{fleet: fleet.New(nil), stopping: make(chan struct{})}
	handler := &Handler{
		Fleet: h.fleet, Stopping: h.stopping, Log: slog.New(slog.DiscardHandler),
		Authorize: func(r *http.Request) (int, string) {
			if r.Header.Get("Authorization") != "Bearer agent" {
				return http.StatusUnauthorized, "missing bearer token"
			}
			return 0, ""
		},
	}
	if tune != nil {
		tune(handler)
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	h.url = "ws" + strings.TrimPrefix(srv.URL, "http")
	return h
}

// dial connects as the original collector does, with the agent token.
func (h *wsHub) dial(t *testing.T) *websocket.Conn {
	t.Helper()
	c, resp, err := websocket.Dial(context.Background(), h.url, &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer agent"}},
	})
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func send(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		t.Fatalf("write %s: %v", msg, err)
	}
}

func recv(t *testing.T, c *websocket.Conn) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, data, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("not JSON: %s", data)
	}
	return m
}

// closeStatus reads until the hub closes c and returns the close status.
func closeStatus(t *testing.T, c *websocket.Conn) (websocket.StatusCode, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, _, err := c.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Reason
		}
		return -1, err.Error()
	}
}

// register registers c as host and posts a report listing pid 100 on a GPU.
func (h *wsHub) register(t *testing.T, c *websocket.Conn, host string) *fleet.Machine {
	t.Helper()
	send(t, c, `{"type":"register","hostname":"`+host+`"}`)
	if m := recv(t, c); m["type"] != "register_response" || m["status"] != "success" {
		t.Fatalf("register answer %v", m)
	}
	r := gpuReport()
	r.Hostname = host
	return h.fleet.IngestLegacy(r)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// kill calls a kill the way the service does and returns its result.
func callKill(m *fleet.Machine, force bool, pids ...int32) (*gpumonv1.CommandResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return m.Conn().Call(ctx, &gpumonv1.Command{Kind: &gpumonv1.Command_Kill{Kill: &gpumonv1.KillCommand{Pids: pids, Force: force}}})
}

func TestKillRoundTrip(t *testing.T) {
	h := newWSHub(t, nil)
	c := h.dial(t)
	m := h.register(t, c, "old")
	if !m.Summary().GetCanKill() {
		t.Fatal("can_kill is false while the collector's websocket is connected")
	}
	done := make(chan *gpumonv1.CommandResult, 1)
	go func() {
		res, err := callKill(m, false, 100, 300)
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	got := recv(t, c)
	if got["type"] != "kill_processes" || len(got["pids"].([]any)) != 1 || got["pids"].([]any)[0] != float64(100) {
		t.Fatalf("the collector was sent %v, want kill_processes of pid 100 only", got)
	}
	send(t, c, `{"type":"kill_process_result","status":"success","message":"1/1",
		"results":[{"pid":100,"status":"success","message":"进程 100 已终止"}]}`)
	res := <-done
	if len(res.GetKillResults()) != 2 || res.GetKillResults()[0].GetStatus() != "success" ||
		res.GetKillResults()[1].GetStatus() != "error" {
		t.Errorf("results %v: want 300 refused by the hub, 100 signalled by the collector", res.GetKillResults())
	}

	// SIGKILL is not something the original collector can send.
	res, err := callKill(m, true, 100)
	if err != nil || res.GetOk() || !strings.Contains(res.GetMessage(), "SIGTERM") {
		t.Errorf("forced kill: %v %v, want a refusal naming SIGTERM", res, err)
	}

	c.Close(websocket.StatusNormalClosure, "")
	waitUntil(t, "can_kill false after the websocket closed", func() bool { return !m.Summary().GetCanKill() })
}

// A caller that gave up does not shift the matching: the late answer is
// dropped and the next kill gets its own result.
func TestLateResultDropped(t *testing.T) {
	h := newWSHub(t, nil)
	c := h.dial(t)
	m := h.register(t, c, "old")
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := m.Conn().Call(ctx, &gpumonv1.Command{Kind: &gpumonv1.Command_Kill{Kill: &gpumonv1.KillCommand{Pids: []int32{100}}}})
		errc <- err
	}()
	recv(t, c)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned call: %v", err)
	}
	done := make(chan *gpumonv1.CommandResult, 1)
	go func() { res, _ := callKill(m, false, 200); done <- res }()
	recv(t, c)
	send(t, c, `{"type":"kill_process_result","results":[{"pid":100,"status":"success","message":"late"}]}`)
	send(t, c, `{"type":"kill_process_result","results":[{"pid":200,"status":"success","message":"second"}]}`)
	if res := <-done; res.GetKillResults()[0].GetMessage() != "second" {
		t.Errorf("the second kill got %v, want its own answer", res.GetKillResults())
	}
}

func TestCollectorLeavesMidKill(t *testing.T) {
	h := newWSHub(t, nil)
	c := h.dial(t)
	m := h.register(t, c, "old")
	conn := m.Conn()
	errc := make(chan error, 1)
	go func() { _, err := callKill(m, false, 100); errc <- err }()
	recv(t, c)
	c.CloseNow() // gone without answering
	if err := <-errc; !errors.Is(err, fleet.ErrStreamClosed) {
		t.Errorf("kill whose collector left: %v, want ErrStreamClosed", err)
	}
	waitUntil(t, "the machine to drop the connection", func() bool { return m.Conn() == nil })
	if _, err := conn.Call(context.Background(), &gpumonv1.Command{}); !errors.Is(err, fleet.ErrStreamClosed) {
		t.Errorf("a later call on the closed connection: %v", err)
	}
}

func TestRefusals(t *testing.T) {
	h := newWSHub(t, func(h *Handler) { h.RegisterTimeout = 200 * time.Millisecond })
	tests := []struct {
		name   string
		first  string // sent after connecting; "" sends nothing
		status websocket.StatusCode
		reason string
	}{
		{"not a register message", `{"type":"kill_process_result"}`, websocket.StatusPolicyViolation, "register"},
		{"bad hostname", `{"type":"register","hostname":"a b"}`, websocket.StatusPolicyViolation, "hostname"},
		{"no register in time", "", websocket.StatusPolicyViolation, "in time"},
		{"message over the limit", `{"type":"register","hostname":"` + strings.Repeat("x", MaxMessageBytes) + `"}`, websocket.StatusMessageTooBig, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := h.dial(t)
			c.SetReadLimit(1 << 20)
			if tc.first != "" {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				_ = c.Write(ctx, websocket.MessageText, []byte(tc.first))
				cancel()
			}
			code, reason := closeStatus(t, c)
			if code != tc.status || !strings.Contains(reason, tc.reason) {
				t.Errorf("closed with %v %q, want %v mentioning %q", code, reason, tc.status, tc.reason)
			}
		})
	}

	t.Run("second connection for a hostname", func(t *testing.T) {
		first := h.dial(t)
		m := h.register(t, first, "twice")
		second := h.dial(t)
		send(t, second, `{"type":"register","hostname":"twice"}`)
		if code, reason := closeStatus(t, second); code != websocket.StatusPolicyViolation || !strings.Contains(reason, "already connected") {
			t.Errorf("second connection closed with %v %q", code, reason)
		}
		if !m.Summary().GetCanKill() {
			t.Error("the refused second connection cost the first its kills")
		}
	})

	for _, tc := range []struct {
		name   string
		header http.Header
		status int
	}{
		{"no token", nil, http.StatusUnauthorized},
		{"another web origin", http.Header{"Authorization": {"Bearer agent"}, "Origin": {"http://evil.example"}}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, resp, err := websocket.Dial(context.Background(), h.url, &websocket.DialOptions{HTTPHeader: tc.header})
			if err == nil || resp == nil || resp.StatusCode != tc.status {
				t.Errorf("dial: %v, response %v; want refused with %d", err, resp, tc.status)
			}
		})
	}

	t.Run("plain GET", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, "http"+strings.TrimPrefix(h.url, "ws"), nil)
		req.Header.Set("Authorization", "Bearer agent")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUpgradeRequired || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("GET /ws without upgrading: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	})
}

// A collector that stops answering pings is dropped; so is every
// collector when the hub stops.
func TestPingsAndShutdown(t *testing.T) {
	h := newWSHub(t, func(h *Handler) { h.PingInterval, h.PingTimeout = 20*time.Millisecond, 100*time.Millisecond })
	silent := h.dial(t) // never reads, so never answers a ping
	m := h.register(t, silent, "silent")
	waitUntil(t, "the silent collector to be dropped", func() bool { return m.Conn() == nil })

	h = newWSHub(t, func(h *Handler) { h.PingInterval, h.PingTimeout = 20*time.Millisecond, 10*time.Second })
	live := h.dial(t)
	m = h.register(t, live, "live")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reading := live.CloseRead(ctx)     // answers pings
	time.Sleep(200 * time.Millisecond) // ten pings
	if m.Conn() == nil {
		t.Fatal("a collector that answers pings was dropped")
	}
	close(h.stopping)
	<-reading.Done()
	waitUntil(t, "the connection to be dropped at shutdown", func() bool { return m.Conn() == nil })
}
