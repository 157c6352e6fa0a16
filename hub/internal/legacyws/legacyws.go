package legacyws

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/gpumon/gpumon/gateway"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// Bounds of one connection. The collector sends a register message and
// kill results (a result for MaxKillPIDs processes is under 128 KiB).
const (
	MaxMessageBytes = 256 << 10
	// MaxWaitingKills is how many kills may wait for the collector's answer.
	MaxWaitingKills = 8
)

// Handler serves /ws.
type Handler struct {
	Fleet *fleet.Fleet
	// Authorize decides with the rules of the report POST; 0 allows, else
	// an HTTP status and a message.
	Authorize func(r *http.Request) (int, string)
	Log       *slog.Logger
	// Stopping is closed when the hub shuts down; connections are closed.
	Stopping <-chan struct{}

	// Timeouts; the defaults when zero: 10 s to register, a ping every 30 s
	// answered within 15 s, 10 s per write.
	RegisterTimeout, PingInterval, PingTimeout, WriteTimeout time.Duration
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if code, msg := h.Authorize(r); code != 0 {
		h.Log.Debug("collector websocket refused", "remote", r.RemoteAddr, "status", code)
		gateway.WriteError(w, code, msg)
		return
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		w.Header().Set("Upgrade", "websocket")
		gateway.WriteError(w, http.StatusUpgradeRequired, "/ws is the original collector's websocket: connect with a websocket client")
		return
	}
	// The HTTP server's read timeout would end the connection after a minute;
	// pings bound it instead.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	c, err := websocket.Accept(w, r, nil) // other web origins are refused
	if err != nil {
		h.Log.Debug("collector websocket handshake failed", "remote", r.RemoteAddr, "err", err)
		return
	}
	c.SetReadLimit(MaxMessageBytes)
	h.serve(c, r.RemoteAddr)
}

func (h *Handler) serve(c *websocket.Conn, remote string) {
	defer c.CloseNow()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// A read whose context ends closes the connection at once; a timer
	// closes it with a reason.
	late := time.AfterFunc(orDefault(h.RegisterTimeout, 10*time.Second), func() {
		_ = c.Close(websocket.StatusPolicyViolation, "no register message in time")
	})
	_, data, err := c.Read(ctx)
	if !late.Stop() || err != nil {
		h.Log.Debug("collector sent no register message", "remote", remote, "err", err)
		return
	}
	host, err := parseRegister(data)
	if err != nil {
		_ = c.Close(websocket.StatusPolicyViolation, err.Error())
		return
	}
	s := &session{h: h, c: c, host: host, conn: fleet.NewAgentConn(true)}
	if err := h.Fleet.AttachCollector(host, s.conn); err != nil {
		h.Log.Warn("second collector websocket refused", "host", host, "remote", remote)
		_ = c.Close(websocket.StatusPolicyViolation, "a collector for "+host+" is already connected")
		return
	}
	defer func() {
		h.Fleet.DetachCollector(host, s.conn)
		s.conn.Close()
	}()
	if err := s.write(ctx, registerResponse()); err != nil {
		return
	}
	h.Log.Info("collector connected", "host", host, "remote", remote)
	err = s.run(ctx)
	h.Log.Info("collector disconnected", "host", host, "remote", remote, "reason", err)
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// session is one registered collector.
type session struct {
	h    *Handler
	c    *websocket.Conn
	host string
	conn *fleet.AgentConn

	mu      sync.Mutex
	waiting []*kill // sent, oldest first
}

var errStopping = errors.New("the hub is shutting down")

// run relays commands and results until the connection ends.
func (s *session) run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); cancel(s.readResults(ctx)) }()
	go func() { defer wg.Done(); cancel(s.sendCommands(ctx)) }()
	go func() { defer wg.Done(); cancel(s.ping(ctx)) }()
	select {
	case <-ctx.Done():
	case <-s.h.Stopping:
		cancel(errStopping)
		_ = s.c.Close(websocket.StatusGoingAway, errStopping.Error())
	}
	s.c.CloseNow()
	wg.Wait()
	return context.Cause(ctx)
}

func (s *session) write(ctx context.Context, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, orDefault(s.h.WriteTimeout, 10*time.Second))
	defer cancel()
	return s.c.Write(ctx, websocket.MessageText, data)
}

func (s *session) ping(ctx context.Context) error {
	t := time.NewTicker(orDefault(s.h.PingInterval, 30*time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, orDefault(s.h.PingTimeout, 15*time.Second))
		err := s.c.Ping(pctx)
		cancel()
		if err != nil {
			return errors.New("the collector did not answer a ping")
		}
	}
}

// readResults matches each kill result to the oldest kill waiting for one.
func (s *session) readResults(ctx context.Context) error {
	for {
		typ, data, err := s.c.Read(ctx)
		if err != nil {
			return err
		}
		m, ok := parseKillResult(data)
		if typ != websocket.MessageText || !ok {
			s.h.Log.Debug("collector message ignored", "host", s.host, "bytes", len(data))
			continue
		}
		s.mu.Lock()
		var k *kill
		if len(s.waiting) > 0 {
			k, s.waiting = s.waiting[0], s.waiting[1:]
		}
		s.mu.Unlock()
		if k == nil {
			s.h.Log.Debug("kill result with no kill waiting", "host", s.host)
			continue
		}
		s.conn.Resolve(k.result(&m))
	}
}

// sendCommands turns the hub's commands into the collector's messages.
func (s *session) sendCommands(ctx context.Context) error {
	for {
		var cmd *gpumonv1.Command
		select {
		case <-ctx.Done():
			return nil
		case cmd = <-s.conn.Out():
		}
		k, refusal := s.plan(cmd)
		if refusal != "" {
			s.conn.Resolve(&gpumonv1.CommandResult{RequestId: cmd.GetRequestId(), Message: refusal})
			continue
		}
		if len(k.sent) == 0 {
			s.conn.Resolve(k.result(nil))
			continue
		}
		s.mu.Lock()
		s.waiting = append(s.waiting, k)
		s.mu.Unlock()
		if err := s.write(ctx, killMessage(k.sent)); err != nil {
			return err
		}
	}
}

// plan decides what to send for cmd, or why nothing can be.
func (s *session) plan(cmd *gpumonv1.Command) (*kill, string) {
	kc := cmd.GetKill()
	switch {
	case kc == nil:
		return nil, "the original collector only understands kill commands"
	case kc.GetForce():
		return nil, "the original collector only sends SIGTERM (SIGKILL needs gpumon-agent with --allow-force-kill)"
	}
	s.mu.Lock()
	busy := len(s.waiting) >= MaxWaitingKills
	s.mu.Unlock()
	if busy {
		return nil, "the collector has not answered its earlier kill commands"
	}
	var report *gpumonv1.Report
	if m, ok := s.h.Fleet.CollectorMachine(s.host); ok && m.State() != nil {
		report = m.State().Report
	}
	return planKill(cmd.GetRequestId(), kc.GetPids(), report, s.host), ""
}
