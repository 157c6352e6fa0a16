package app

import (
	"context"
	"flag"
	"fmt"
	"strconv"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

func killCommand() *command {
	return &command{
		name:    "kill",
		args:    "HOST PID...",
		summary: "stop processes (admin token, agent --allow-kill)",
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.BoolVar(&o.force, "force", false, "send SIGKILL instead of SIGTERM (the agent needs --allow-force-kill)")
		},
		run: runKill,
	}
}

// KillJSON is the --json output of gpumon kill.
type KillJSON struct {
	Host    string           `json:"host"`
	Status  string           `json:"status"`
	Message string           `json:"message"`
	Results []KillResultJSON `json:"results"`
}

// KillResultJSON is the agent's answer for one PID.
type KillResultJSON struct {
	PID     int32  `json:"pid"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

func runKill(ctx context.Context, e *env, args []string) error {
	if len(args) < 2 {
		return usageError("kill needs a HOST and at least one PID")
	}
	host := args[0]
	var pids []int32
	for _, a := range args[1:] {
		pid, err := strconv.ParseInt(a, 10, 32)
		if err != nil || pid <= 0 {
			return usageError("%q is not a process id", a)
		}
		pids = append(pids, int32(pid))
	}
	token := adminToken(e)
	if token == "" {
		return &cliError{ExitUnauthorized, fmt.Errorf("kill needs the admin token: set --admin-token, GPUMON_ADMIN_TOKEN or admin-token in the config file")}
	}
	c, err := e.client(token)
	if err != nil {
		return err
	}
	defer e.close()
	cctx, cancel := context.WithTimeout(ctx, e.common.timeout+15e9) // the agent answers within the hub's kill timeout
	defer cancel()
	resp, err := c.KillProcesses(cctx, &gpumonv1.KillProcessesRequest{Hostname: host, Pids: pids, Force: e.opts.force})
	if err != nil {
		return e.rpcError("kill on "+host, err)
	}
	out := KillJSON{Host: host, Status: resp.GetStatus(), Message: resp.GetMessage(), Results: []KillResultJSON{}}
	for _, r := range resp.GetResults() {
		out.Results = append(out.Results, KillResultJSON{PID: r.GetPid(), Status: r.GetStatus(), Message: r.GetMessage()})
	}
	if e.common.json {
		if err := writeJSON(e.Out, out); err != nil {
			return err
		}
	} else {
		tb := &table{head: []string{"PID", "RESULT", "MESSAGE"}, max: []int{0, 0, 0}, right: []bool{true, false, false}}
		for _, r := range out.Results {
			tb.add(fmt.Sprint(r.PID), r.Status, r.Message)
		}
		tb.write(e.Out, width(e.Out))
	}
	if out.Status != "success" {
		return failed("kill on %s: %s", host, out.Message)
	}
	return nil
}
