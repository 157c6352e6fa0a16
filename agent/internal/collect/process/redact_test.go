package process

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/gpumon/gpumon/common/redact"
)

// A process started with secrets on its command line is reported with them
// hidden: the agent's own token wherever it appears, and the values of
// secret-looking flags and assignments.
func TestLiveCommandLineSecretsHidden(t *testing.T) {
	const token, password = "agent-token-live-0001", "hunter2-live"
	cmd := exec.Command("sh", "-c", "sleep 30; :", "sh", "--token", token, "--password="+password, "HF_TOKEN=hf_live", "x"+token)
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start sh: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	c := New(nil, WithProcRoot("/proc"), WithHostRoot("/"), WithRedactor(redact.New(token)))
	p := collectByPID(t, c)[int32(cmd.Process.Pid)]
	if p == nil {
		t.Fatal("the child process is not listed")
	}
	for _, secret := range []string{token, password, "hf_live"} {
		if strings.Contains(p.Cmdline, secret) {
			t.Errorf("command line %q shows %q", p.Cmdline, secret)
		}
	}
	if want := "--token *** --password=*** HF_TOKEN=*** x***"; !strings.Contains(p.Cmdline, want) {
		t.Errorf("command line %q, want it to hold %q", p.Cmdline, want)
	}
}
