package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"golang.org/x/term"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func topCommand() *command {
	return &command{
		name:    "top",
		args:    "HOST",
		summary: "one machine live: sort, select and stop processes; ? lists the keys",
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.IntVar(&o.count, "count", 0, "exit after this many `updates` (0: run until q or Ctrl-C)")
			fs.IntVar(&o.procs, "procs", 15, "show at most this many GPU `processes`")
		},
		run: runTop,
	}
}

// TopJSON is one update in the --json output of gpumon top (one object per line).
type TopJSON struct {
	Type      string        `json:"type"`
	Machine   MachineJSON   `json:"machine"`
	GPUs      []GPUJSON     `json:"gpus"`
	Processes []ProcessJSON `json:"processes"`
}

// GPUJSON is one GPU in gpumon top --json.
type GPUJSON struct {
	Index       int32    `json:"index"`
	Name        string   `json:"name"`
	Utilization *uint32  `json:"utilization"`
	MemoryUsed  uint32   `json:"memory_used_mib"`
	MemoryTotal uint32   `json:"memory_total_mib"`
	Temperature *uint32  `json:"temperature_c"`
	PowerDraw   *float64 `json:"power_draw_w"`
	PowerLimit  *float64 `json:"power_limit_w"`
}

var eventNames = map[gpumonv1.WatchEventType]string{
	gpumonv1.WatchEventType_WATCH_EVENT_TYPE_INITIAL:   "initial",
	gpumonv1.WatchEventType_WATCH_EVENT_TYPE_SAMPLE:    "sample",
	gpumonv1.WatchEventType_WATCH_EVENT_TYPE_STATUS:    "status",
	gpumonv1.WatchEventType_WATCH_EVENT_TYPE_FORGOTTEN: "forgotten",
}

func runTop(ctx context.Context, e *env, args []string) error {
	if len(args) != 1 {
		return usageError("top needs exactly one HOST (see gpumon ls)")
	}
	host := args[0]
	c, err := e.client(e.common.token)
	if err != nil {
		return err
	}
	defer e.close()
	cctx, cancel := e.callCtx(ctx)
	_, err = c.GetMachine(cctx, &gpumonv1.GetMachineRequest{Machine: host})
	cancel()
	if err != nil {
		return e.rpcError("machine "+host, err)
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	stream, err := c.Watch(ctx, &gpumonv1.WatchRequest{Machine: host, IncludeReport: true})
	if err != nil {
		return e.rpcError("watch "+host, err)
	}
	t := &topRun{e: e, host: host, v: &topView{canKill: adminToken(e) != ""}}
	t.s = screen{maxProcs: e.opts.procs, loc: time.Local}
	t.s.width, t.s.height = termSize(e.Out)
	t.s.live = !e.common.json && isTerminal(e.Out)
	t.s.colour = t.s.live && colourAllowed()
	updates := make(chan *gpumonv1.WatchResponse)
	errc := make(chan error, 1)
	go func() { errc <- receive(ctx, stream, updates) }()
	var keys <-chan []keyEvent
	if t.s.live {
		var restore func()
		keys, restore = readKeys(e.In)
		defer restore()
		io.WriteString(e.Out, "\x1b[?25l")
		defer io.WriteString(e.Out, "\x1b[?25h\n")
	}
	return t.loop(ctx, updates, keys, errc)
}

// topRun is one gpumon top command: its view, screen and kills.
type topRun struct {
	e     *env
	host  string
	v     *topView
	s     screen
	kills chan string
	admin gpumonv1.FleetServiceClient
}

func (t *topRun) loop(ctx context.Context, updates <-chan *gpumonv1.WatchResponse, keys <-chan []keyEvent, errc <-chan error) error {
	t.kills = make(chan string, 1)
	for n := 0; t.e.opts.count == 0 || n < t.e.opts.count; {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errc:
			if err == nil || status.Code(err) == codes.Canceled || errors.Is(err, context.Canceled) || ctx.Err() != nil {
				return nil
			}
			return t.e.rpcError("watch "+t.host, err)
		case ev := <-updates:
			if ev.GetType() == gpumonv1.WatchEventType_WATCH_EVENT_TYPE_FORGOTTEN {
				return notFound("machine %s was forgotten by the hub", t.host)
			}
			u := topUpdate(eventNames[ev.GetType()], ev)
			if t.e.common.json {
				if len(u.Processes) > t.e.opts.procs && t.e.opts.procs >= 0 {
					u.Processes = u.Processes[:t.e.opts.procs]
				}
				if err := writeJSONLine(t.e.Out, u); err != nil {
					return err
				}
			} else {
				t.v.setUpdate(u)
				t.draw()
			}
			n++
		case batch, ok := <-keys:
			if !ok {
				keys = nil // stdin closed: keep showing updates
				continue
			}
			for _, k := range batch {
				switch t.v.press(k) {
				case actQuit:
					return nil
				case actKill:
					t.startKill(ctx, t.v.target)
				}
			}
			t.draw()
		case msg := <-t.kills:
			t.v.killDone(msg)
			t.draw()
		}
	}
	return nil
}

// receive forwards the watch stream's updates (heartbeats left out).
func receive(ctx context.Context, stream gpumonv1.FleetService_WatchClient, out chan<- *gpumonv1.WatchResponse) error {
	for {
		ev, err := stream.Recv()
		if err != nil {
			return err
		}
		if _, ok := eventNames[ev.GetType()]; !ok || ev.GetMachine() == nil {
			continue
		}
		select {
		case out <- ev:
		case <-ctx.Done():
			return nil
		}
	}
}

func (t *topRun) draw() {
	if t.s.live {
		t.s.width, t.s.height = termSize(t.e.Out)
	}
	writeFrame(t.e.Out, renderTop(t.v, t.s), t.s.live)
}

// startKill stops pid with the admin token, in the background; the outcome
// comes back on t.kills.
func (t *topRun) startKill(ctx context.Context, pid int32) {
	if t.admin == nil {
		admin := &env{IO: t.e.IO, common: t.e.common, opts: t.e.opts}
		c, err := admin.client(adminToken(t.e))
		if err != nil {
			t.kills <- fmt.Sprintf("PID %d: error: %v", pid, err)
			return
		}
		go func() { <-ctx.Done(); admin.close() }()
		t.admin = c
	}
	go func() {
		kctx, cancel := context.WithTimeout(ctx, t.e.common.timeout+15*time.Second)
		defer cancel()
		resp, err := t.admin.KillProcesses(kctx, &gpumonv1.KillProcessesRequest{Hostname: t.host, Pids: []int32{pid}})
		t.kills <- killOutcome(pid, resp, err)
	}()
}

// killOutcome is the message line after a kill: the agent's result for the PID.
func killOutcome(pid int32, resp *gpumonv1.KillProcessesResponse, err error) string {
	if err != nil {
		st := status.Convert(err)
		return fmt.Sprintf("PID %d: error: %s", pid, st.Message())
	}
	for _, r := range resp.GetResults() {
		if r.GetPid() == pid {
			return fmt.Sprintf("PID %d: %s: %s", pid, r.GetStatus(), r.GetMessage())
		}
	}
	return fmt.Sprintf("PID %d: %s: %s", pid, resp.GetStatus(), resp.GetMessage())
}

// adminToken is the token for kills: --admin-token, else --token.
func adminToken(e *env) string {
	if e.common.adminToken != "" {
		return e.common.adminToken
	}
	return e.common.token
}

func topUpdate(name string, ev *gpumonv1.WatchResponse) TopJSON {
	u := TopJSON{Type: name, Machine: machineJSON(ev.GetMachine()), GPUs: []GPUJSON{}}
	r := ev.GetReport()
	for _, g := range r.GetGpuData() {
		u.GPUs = append(u.GPUs, GPUJSON{
			Index: g.GetId(), Name: g.GetName(), Utilization: g.Utilization,
			MemoryUsed: g.GetMemoryUsed(), MemoryTotal: g.GetMemoryTotal(), Temperature: g.Temperature,
			PowerDraw: g.PowerDraw, PowerLimit: g.PowerLimit,
		})
	}
	u.Processes = gpuProcesses(ev.GetMachine().GetKey(), r, "")
	if u.Processes == nil {
		u.Processes = []ProcessJSON{}
	}
	return u
}

// readKeys puts a terminal stdin into raw mode and sends what is typed,
// decoded. It returns the function that restores the terminal.
func readKeys(in io.Reader) (<-chan []keyEvent, func()) {
	f, ok := in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, func() {}
	}
	old, err := term.MakeRaw(int(f.Fd()))
	if err != nil {
		return nil, func() {}
	}
	out := make(chan []keyEvent, 16)
	go func() {
		defer close(out)
		buf := make([]byte, 64)
		for {
			n, err := f.Read(buf)
			if n > 0 {
				out <- parseKeys(buf[:n])
			}
			if err != nil {
				return
			}
		}
	}()
	return out, func() { _ = term.Restore(int(f.Fd()), old) }
}

// colourAllowed reports whether colours are wanted: not with NO_COLOR set
// (no-color.org) or on a dumb terminal.
func colourAllowed() bool {
	return os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

// writeFrame prints one frame. Live frames clear the screen first and end
// lines with CR LF (the terminal is in raw mode); otherwise frames follow
// one another, separated by a blank line.
func writeFrame(w io.Writer, lines []string, live bool) {
	if !live {
		_, _ = io.WriteString(w, strings.Join(lines, "\n")+"\n\n")
		return
	}
	_, _ = io.WriteString(w, "\x1b[H\x1b[2J"+strings.Join(lines, "\x1b[K\r\n"))
}

// bar draws a utilisation bar of n cells.
func bar(percent float64, n int) string {
	full := int(percent/100*float64(n) + 0.5)
	full = max(0, min(full, n))
	return "[" + strings.Repeat("#", full) + strings.Repeat(".", n-full) + "]"
}

func power(draw, limit *float64) string {
	switch {
	case draw == nil:
		return "-"
	case limit == nil:
		return fmt.Sprintf("%.0fW", *draw)
	}
	return fmt.Sprintf("%.0f/%.0fW", *draw, *limit)
}

// writeJSONLine writes v as one line of JSON.
func writeJSONLine(w io.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}
