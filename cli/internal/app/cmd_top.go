package app

import (
	"bytes"
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
		summary: "one machine live; q or Ctrl-C quits",
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
	live := !e.common.json && isTerminal(e.Out)
	if live {
		restore := watchKeys(e.In, stop)
		defer restore()
		io.WriteString(e.Out, "\x1b[?25l")
		defer io.WriteString(e.Out, "\x1b[?25h\n")
	}
	stream, err := c.Watch(ctx, &gpumonv1.WatchRequest{Machine: host, IncludeReport: true})
	if err != nil {
		return e.rpcError("watch "+host, err)
	}
	for n := 0; e.opts.count == 0 || n < e.opts.count; {
		ev, err := stream.Recv()
		if status.Code(err) == codes.Canceled || errors.Is(err, context.Canceled) || ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return e.rpcError("watch "+host, err)
		}
		name, ok := eventNames[ev.GetType()]
		if !ok || ev.GetMachine() == nil {
			continue // heartbeat
		}
		if ev.GetType() == gpumonv1.WatchEventType_WATCH_EVENT_TYPE_FORGOTTEN {
			return notFound("machine %s was forgotten by the hub", host)
		}
		update := topUpdate(name, ev, e.opts.procs)
		if e.common.json {
			if err := writeJSONLine(e.Out, update); err != nil {
				return err
			}
		} else {
			writeTop(e.Out, update, live, width(e.Out))
		}
		n++
	}
	return nil
}

func topUpdate(name string, ev *gpumonv1.WatchResponse, maxProcs int) TopJSON {
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
	if maxProcs >= 0 && len(u.Processes) > maxProcs {
		u.Processes = u.Processes[:maxProcs]
	}
	return u
}

// watchKeys puts a terminal stdin into raw mode and calls stop on q, Q or
// Ctrl-C. It returns the function that restores the terminal.
func watchKeys(in io.Reader, stop func()) func() {
	f, ok := in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return func() {}
	}
	old, err := term.MakeRaw(int(f.Fd()))
	if err != nil {
		return func() {}
	}
	go func() {
		buf := make([]byte, 1)
		for {
			if _, err := f.Read(buf); err != nil {
				return
			}
			if buf[0] == 'q' || buf[0] == 'Q' || buf[0] == 3 {
				stop()
				return
			}
		}
	}()
	return func() { _ = term.Restore(int(f.Fd()), old) }
}

// writeTop prints one frame of gpumon top. live clears the screen first and
// writes CR LF line ends (the terminal is in raw mode); otherwise frames
// follow one another, separated by a blank line.
func writeTop(w io.Writer, u TopJSON, live bool, cols int) {
	var b bytes.Buffer
	m := u.Machine
	state := "online"
	if !m.Online {
		state = "OFFLINE"
	}
	fmt.Fprintf(&b, "%s  %s  %s  sampled %s\n", elide(m.Host, 30), state, m.IPAddress,
		m.LastSeen.Local().Format(time.TimeOnly))
	fmt.Fprintf(&b, "CPU %s  memory %s  disk %s  GPUs %d/%d busy  GPU memory %s/%s\n\n",
		pct(m.CPUPercent), pct(m.MemoryPercent), pct(m.DiskPercent), m.GPUsBusy, m.GPUs,
		mib(float64(m.GPUMemoryUsed)), mib(float64(m.GPUMemoryTotal)))
	gt := &table{
		head:  []string{"GPU", "UTIL", "", "MEMORY", "TEMP", "POWER", "NAME"},
		max:   []int{0, 0, 0, 0, 0, 0, 0},
		right: []bool{true, true, false, true, true, true, false},
	}
	for _, g := range u.GPUs {
		util := 0.0
		if g.Utilization != nil {
			util = float64(*g.Utilization)
		}
		gt.add(fmt.Sprint(g.Index), optU32(g.Utilization, "%"), bar(util, 10),
			mib(float64(g.MemoryUsed))+"/"+mib(float64(g.MemoryTotal)), optU32(g.Temperature, "C"),
			power(g.PowerDraw, g.PowerLimit), shortGPUName(g.Name))
	}
	gt.write(&b, cols)
	b.WriteString("\n")
	if len(u.Processes) == 0 {
		b.WriteString("no GPU processes\n")
	} else {
		e := &env{IO: IO{Out: &b}}
		writeProcesses(e, u.Processes, false)
	}
	if !live {
		b.WriteString("\n")
		_, _ = w.Write(b.Bytes())
		return
	}
	b.WriteString("\nq or Ctrl-C quits")
	frame := strings.ReplaceAll(b.String(), "\n", "\x1b[K\r\n")
	_, _ = io.WriteString(w, "\x1b[H\x1b[2J"+frame)
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
