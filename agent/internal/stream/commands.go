package stream

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// KillPolicy says which kill commands the agent obeys.
type KillPolicy struct {
	// Allow: obey kill commands at all (--allow-kill).
	Allow bool
	// AllowForce: send SIGKILL when asked; otherwise SIGTERM only.
	AllowForce bool
	// AnyProcess: stop any process the agent reports, not only those using
	// a GPU (--allow-kill-non-gpu).
	AnyProcess bool
	// Signal sends a signal (default syscall.Kill).
	Signal func(pid int, sig syscall.Signal) error
}

// Bounds of SetInterval commands.
const (
	MinInterval = 500 * time.Millisecond
	MaxInterval = time.Hour
)

func (c *Client) execute(cmd *gpumonv1.Command) *gpumonv1.CommandResult {
	res := &gpumonv1.CommandResult{RequestId: cmd.GetRequestId(), Ok: true}
	switch k := cmd.GetKind().(type) {
	case *gpumonv1.Command_SetInterval:
		d := k.SetInterval.GetInterval().AsDuration()
		if d < MinInterval || d > MaxInterval {
			res.Ok, res.Message = false, fmt.Sprintf("interval %s out of range [%s, %s]", d, MinInterval, MaxInterval)
			break
		}
		c.setInterval(d)
		res.Message = "interval set to " + d.String()
	case *gpumonv1.Command_SampleNow:
		signal(c.wake)
		res.Message = "sampling"
	case *gpumonv1.Command_Kill:
		res.KillResults = c.kill(k.Kill)
		res.Ok = c.cfg.Kill.Allow
		if !res.Ok {
			res.Message = "this agent does not allow kills (start it with --allow-kill)"
		}
	default:
		res.Ok, res.Message = false, "unknown command"
	}
	c.log.Info("command", "request_id", cmd.GetRequestId(), "kind", fmt.Sprintf("%T", cmd.GetKind()), "ok", res.Ok, "message", res.Message)
	return res
}

func (c *Client) kill(k *gpumonv1.KillCommand) []*gpumonv1.KillResult {
	send := c.cfg.Kill.Signal
	if send == nil {
		send = syscall.Kill
	}
	sig, sigName := syscall.SIGTERM, "SIGTERM"
	if k.GetForce() && c.cfg.Kill.AllowForce {
		sig, sigName = syscall.SIGKILL, "SIGKILL"
	}
	self := int32(os.Getpid())
	out := make([]*gpumonv1.KillResult, 0, len(k.GetPids()))
	for _, pid := range k.GetPids() {
		r := &gpumonv1.KillResult{Pid: pid, Status: "error"}
		listed, gpu := c.reported(pid)
		switch {
		case !c.cfg.Kill.Allow:
			r.Message = "kills are not allowed on this agent (--allow-kill)"
		case k.GetForce() && !c.cfg.Kill.AllowForce:
			r.Message = "SIGKILL is not allowed on this agent (--allow-force-kill)"
		case pid <= 1:
			r.Message = fmt.Sprintf("pid %d is never signalled", pid)
		case pid == self:
			r.Message = "the agent does not signal itself"
		case !listed:
			r.Message = "pid is not among the processes this agent reports"
		case !gpu && !c.cfg.Kill.AnyProcess:
			r.Message = "pid uses no GPU; this agent stops only GPU processes (--allow-kill-non-gpu widens that)"
		default:
			if err := send(int(pid), sig); err != nil {
				r.Message = killError(err)
			} else {
				r.Status, r.Message = "success", sigName+" sent"
			}
		}
		out = append(out, r)
	}
	return out
}

func killError(err error) string {
	switch {
	case errors.Is(err, syscall.ESRCH):
		return "no such process"
	case errors.Is(err, syscall.EPERM):
		return "operation not permitted (the agent runs as a user who may not signal this process)"
	}
	return err.Error()
}
