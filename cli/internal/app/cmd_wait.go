package app

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

func waitCommand() *command {
	return &command{
		name:    "wait",
		args:    "[-- COMMAND ARGS...]",
		summary: "wait until GPUs are free on one machine; print it, or run COMMAND here on them",
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.IntVar(&o.gpus, "free", 1, "how many free `GPUs` one machine must have")
			freeFilterFlags(fs, o)
			fs.StringVar(&o.host, "host", "", "only this `machine`")
			fs.BoolVar(&o.here, "here", false, "only this machine (its hostname); implied by -- COMMAND")
		},
		run:   runWait,
		notes: waitNotes,
	}
}

const waitNotes = `gpumon wait follows the hub's watch stream (no polling) until one machine has
--free N GPUs that are free by the hub's definition (as gpumon free; the flags
above change its thresholds), then prints "HOST CUDA_VISIBLE_DEVICES=0,3" (the
N freest GPUs, by NVML index) and exits 0.

With -- COMMAND ARGS..., it waits for GPUs on this machine (--here) and then
runs COMMAND in its place with CUDA_VISIBLE_DEVICES set to them and
CUDA_DEVICE_ORDER=PCI_BUS_ID (CUDA then numbers GPUs as NVML does); the match
line goes to standard error, and the exit status is COMMAND's.

The common flag --timeout, given on the command line, bounds the whole wait:
when it passes without a match, gpumon wait exits 6. Without it, it waits
until a match or Ctrl-C. A broken stream (the hub restarting) is reopened.`

// WaitGPUJSON is one GPU of the match.
type WaitGPUJSON struct {
	GPU         int32   `json:"gpu"`
	UUID        string  `json:"uuid"`
	Name        string  `json:"name"`
	MemoryFree  uint32  `json:"memory_free_mib"`
	MemoryTotal uint32  `json:"memory_total_mib"`
	Utilization *uint32 `json:"utilization"`
	Score       float64 `json:"score"`
}

// WaitJSON is the --json output of gpumon wait.
type WaitJSON struct {
	Host               string        `json:"host"`
	Hostname           string        `json:"hostname"`
	GPUs               []WaitGPUJSON `json:"gpus"`
	CUDAVisibleDevices string        `json:"cuda_visible_devices"`
	WaitedSeconds      float64       `json:"waited_seconds"`
}

// waitPlan is what one gpumon wait asks for.
type waitPlan struct {
	n        int
	host     string // machine key; empty for any
	criteria *gpumonv1.ListFreeGpusRequest
	command  []string
}

func runWait(ctx context.Context, e *env, args []string) error {
	p, err := planWait(e, args)
	if err != nil {
		return err
	}
	c, err := e.client(e.common.token)
	if err != nil {
		return err
	}
	defer e.close()
	if p.host != "" {
		cctx, cancel := e.callCtx(ctx)
		_, err := c.GetMachine(cctx, &gpumonv1.GetMachineRequest{Machine: p.host})
		cancel()
		if err != nil {
			if e.opts.here && status.Code(err) == codes.NotFound {
				return notFound("this machine (%s) is not in the fleet: is its agent running under another --hostname? use --host", p.host)
			}
			return e.rpcError("machine "+p.host, err)
		}
	}
	start := time.Now()
	if e.common.timeoutSet {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.common.timeout)
		defer cancel()
	}
	m, err := follow(ctx, e, c, p)
	if err != nil {
		if pastDeadline(ctx) {
			return &cliError{code: ExitTimeout, err: fmt.Errorf("wait: no machine had %d free GPU(s) within %s", p.n, e.common.timeout)}
		}
		return err
	}
	out := waitJSON(m, p.n, time.Since(start))
	w := e.Out
	if len(p.command) > 0 {
		w = e.Err // the command's output is its own
	}
	if e.common.json {
		err = writeJSON(w, out)
	} else {
		_, err = fmt.Fprintf(w, "%s CUDA_VISIBLE_DEVICES=%s\n", out.Host, out.CUDAVisibleDevices)
	}
	if err != nil || len(p.command) == 0 {
		return err
	}
	return e.execCommand(p.command, out.CUDAVisibleDevices)
}

// planWait checks the flags and arguments.
func planWait(e *env, args []string) (waitPlan, error) {
	p := waitPlan{n: e.opts.gpus, host: e.opts.host}
	if e.dashAt < 0 && len(args) > 0 || e.dashAt > 0 {
		return p, usageError("wait takes no arguments; put a command to run after --")
	}
	p.command = args
	if p.n < 1 || p.n > 1024 {
		return p, usageError("--free %d: want a number of GPUs from 1", p.n)
	}
	minMem, err := parseSize(e.opts.minMem)
	if err != nil {
		return p, usageError("--min-mem: %v", err)
	}
	if e.opts.here || len(p.command) > 0 {
		if p.host != "" {
			return p, usageError("--host and --here (or -- COMMAND, which runs here) exclude each other")
		}
		e.opts.here = true
		if p.host, err = os.Hostname(); err != nil {
			return p, fmt.Errorf("this machine's hostname: %w", err)
		}
	}
	if len(p.command) > 0 {
		if _, err := exec.LookPath(p.command[0]); err != nil {
			return p, usageError("command %q: %v", p.command[0], err)
		}
	}
	if e.common.timeoutSet && e.common.timeout <= 0 {
		return p, usageError("--timeout %s: want a duration above zero", e.common.timeout)
	}
	p.criteria = &gpumonv1.ListFreeGpusRequest{MinFreeMemory: minMem, MaxUtilization: e.opts.maxUtil.ptr(),
		MinFreePercent: e.opts.minFree.ptr(), Shared: e.opts.shared, Idle: e.opts.idle}
	return p, nil
}

// match is a machine with enough free GPUs.
type match struct {
	key, hostname string
	gpus          []*gpumonv1.FreeGpu
}

// follow reads the hub's watch stream, which lists each machine's free GPUs
// by the criteria with every event, until one machine has p.n. A stream
// that breaks (the hub restarts) is opened again.
func follow(ctx context.Context, e *env, c gpumonv1.FleetServiceClient, p waitPlan) (match, error) {
	backoff := time.Second
	for {
		m, err := followOnce(ctx, c, p)
		if err == nil || ctx.Err() != nil || pastDeadline(ctx) {
			return m, err
		}
		if code := status.Code(err); code != codes.Unavailable && code != codes.ResourceExhausted {
			return m, e.rpcError("watch the fleet", err)
		}
		fmt.Fprintf(e.Err, "gpumon: wait: the hub's watch stream broke (%s); reconnecting in %s\n", status.Convert(err).Message(), backoff)
		select {
		case <-ctx.Done():
			return m, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

// pastDeadline says whether ctx's deadline has passed, even before its
// timer fired: gRPC carries the deadline to the hub, which ends the watch
// stream (RST_STREAM, CANCEL) when it passes, and on a busy machine the
// hub's word can come first.
func pastDeadline(ctx context.Context) bool {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

func followOnce(ctx context.Context, c gpumonv1.FleetServiceClient, p waitPlan) (match, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.Watch(ctx, &gpumonv1.WatchRequest{Machine: p.host, Free: p.criteria})
	if err != nil {
		return match{}, err
	}
	free := map[string]match{}
	for {
		ev, err := stream.Recv()
		if err != nil {
			return match{}, err
		}
		sm := ev.GetMachine()
		switch {
		case sm == nil:
			continue
		case ev.GetType() == gpumonv1.WatchEventType_WATCH_EVENT_TYPE_FORGOTTEN:
			delete(free, sm.GetKey())
			continue
		}
		free[sm.GetKey()] = match{key: sm.GetKey(), hostname: sm.GetHostname(), gpus: ev.GetFreeGpus()}
		if m, ok := best(free, p.n); ok {
			return m, nil
		}
	}
}

// best picks, of the machines with at least n free GPUs, the one whose n
// best GPUs are the freest (the hub's score of the n-th), then by name.
func best(free map[string]match, n int) (match, bool) {
	var found []match
	for _, m := range free {
		if len(m.gpus) >= n {
			found = append(found, match{key: m.key, hostname: m.hostname, gpus: m.gpus[:n]})
		}
	}
	if len(found) == 0 {
		return match{}, false
	}
	slices.SortFunc(found, func(a, b match) int {
		return cmp.Or(cmp.Compare(b.gpus[n-1].GetScore(), a.gpus[n-1].GetScore()), cmp.Compare(a.key, b.key))
	})
	return found[0], true
}

func waitJSON(m match, n int, waited time.Duration) WaitJSON {
	out := WaitJSON{Host: m.key, Hostname: m.hostname, GPUs: []WaitGPUJSON{}, WaitedSeconds: waited.Round(time.Millisecond).Seconds()}
	var idx []string
	for _, g := range m.gpus[:n] {
		out.GPUs = append(out.GPUs, WaitGPUJSON{GPU: g.GetIndex(), UUID: g.GetUuid(), Name: g.GetName(), MemoryFree: g.GetMemoryFree(),
			MemoryTotal: g.GetMemoryTotal(), Utilization: g.Utilization, Score: g.GetScore()})
		idx = append(idx, strconv.Itoa(int(g.GetIndex())))
	}
	slices.SortFunc(idx, func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return x - y })
	out.CUDAVisibleDevices = strings.Join(idx, ",")
	return out
}

// execCommand replaces gpumon with the command, its environment holding
// CUDA_VISIBLE_DEVICES and CUDA_DEVICE_ORDER=PCI_BUS_ID (so CUDA numbers the
// GPUs as NVML, and gpumon, do). Signals and the exit status are then the
// command's own.
func (e *env) execCommand(argv []string, devices string) error {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return usageError("command %q: %v", argv[0], err)
	}
	envv := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "CUDA_VISIBLE_DEVICES=") || strings.HasPrefix(kv, "CUDA_DEVICE_ORDER=")
	})
	envv = append(envv, "CUDA_DEVICE_ORDER=PCI_BUS_ID", "CUDA_VISIBLE_DEVICES="+devices)
	run := e.exec
	if run == nil {
		run = syscall.Exec
	}
	if err := run(path, argv, envv); err != nil {
		return fmt.Errorf("run %s: %w", argv[0], err)
	}
	return nil
}
