package stream

import (
	"os"
	"strings"
	"syscall"
	"testing"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// TestKillRules: which signal reaches which process under each policy. Only
// reported PIDs are signalled, never PID 1 or the agent; only GPU processes
// unless --allow-kill-non-gpu; SIGKILL only with --allow-force-kill, and a
// forced kill without it sends nothing at all.
func TestKillRules(t *testing.T) {
	const job, shell = 4242, 4343 // a GPU process, and one using no GPU
	self := int32(os.Getpid())
	tests := []struct {
		name       string
		policy     KillPolicy
		pid        int32
		force      bool
		wantSignal syscall.Signal // 0: nothing sent
		wantMsg    string
	}{
		{"kills not allowed", KillPolicy{}, job, false, 0, "not allowed"},
		{"SIGTERM to a reported pid", KillPolicy{Allow: true}, job, false, syscall.SIGTERM, "SIGTERM sent"},
		{"force without --allow-force-kill", KillPolicy{Allow: true}, job, true, 0, "--allow-force-kill"},
		{"force with --allow-force-kill", KillPolicy{Allow: true, AllowForce: true}, job, true, syscall.SIGKILL, "SIGKILL sent"},
		{"no force asked: SIGTERM even when SIGKILL is allowed", KillPolicy{Allow: true, AllowForce: true}, job, false, syscall.SIGTERM, "SIGTERM sent"},
		{"pid 1", KillPolicy{Allow: true, AllowForce: true}, 1, true, 0, "never signalled"},
		{"pid 0 (the process group)", KillPolicy{Allow: true}, 0, false, 0, "never signalled"},
		{"a negative pid (a process group)", KillPolicy{Allow: true}, -job, false, 0, "never signalled"},
		{"the agent itself", KillPolicy{Allow: true}, self, false, 0, "itself"},
		{"a pid the agent does not report", KillPolicy{Allow: true}, job + 1, false, 0, "not among the processes"},
		{"a process using no GPU", KillPolicy{Allow: true}, shell, false, 0, "uses no GPU"},
		{"a process using no GPU with --allow-kill-non-gpu", KillPolicy{Allow: true, AnyProcess: true}, shell, false, syscall.SIGTERM, "SIGTERM sent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sent []syscall.Signal
			policy := tt.policy
			policy.Signal = func(pid int, sig syscall.Signal) error {
				if pid != int(tt.pid) {
					t.Errorf("signalled pid %d, asked for %d", pid, tt.pid)
				}
				sent = append(sent, sig)
				return nil
			}
			c := newTestClient("127.0.0.1:1", policy)
			c.pids = map[int32]bool{job: true, shell: false, 1: true, self: true, -job: true, 0: true}
			res := c.kill(&gpumonv1.KillCommand{Pids: []int32{tt.pid}, Force: tt.force})
			if len(res) != 1 || !strings.Contains(res[0].GetMessage(), tt.wantMsg) {
				t.Fatalf("results %v, want one saying %q", res, tt.wantMsg)
			}
			wantStatus := "error"
			if tt.wantSignal != 0 {
				wantStatus = "success"
			}
			if res[0].GetStatus() != wantStatus {
				t.Errorf("status %q, want %q", res[0].GetStatus(), wantStatus)
			}
			switch {
			case tt.wantSignal == 0 && len(sent) > 0:
				t.Errorf("sent %v, want nothing", sent)
			case tt.wantSignal != 0 && (len(sent) != 1 || sent[0] != tt.wantSignal):
				t.Errorf("sent %v, want %v", sent, tt.wantSignal)
			}
		})
	}
}
