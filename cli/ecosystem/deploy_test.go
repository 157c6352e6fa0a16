//go:build ecosystem

package ecosystem

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestInstallScript installs into a temporary prefix and verifies the
// installed units with systemd-analyze.
func TestInstallScript(t *testing.T) {
	need(t, "systemd", "systemd-analyze", "--version")
	prefix := t.TempDir()
	install := func(args ...string) (string, int) {
		cmd := exec.Command(filepath.Join(root, "deploy/install.sh"), args...)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	out, code := install("--prefix", prefix, "--from", binDir, "--no-user")
	if code != 0 {
		t.Fatalf("install.sh: exit %d\n%s", code, out)
	}
	for _, want := range []string{"Next steps", "systemctl enable --now gpumon-hub", "agent-token"} {
		if !strings.Contains(out, want) {
			t.Errorf("install.sh output lacks %q:\n%s", want, out)
		}
	}
	for _, b := range []string{"gpumon-hub", "gpumon-agent", "gpumon-gateway", "gpumon"} {
		if st, err := os.Stat(filepath.Join(prefix, "bin", b)); err != nil || st.Mode()&0o111 == 0 {
			t.Errorf("%s not installed as an executable: %v", b, err)
		}
	}
	units := filepath.Join(prefix, "lib/systemd/system")
	hub, agent := filepath.Join(units, "gpumon-hub.service"), filepath.Join(units, "gpumon-agent.service")
	verify := exec.Command("systemd-analyze", "verify", hub, agent)
	if out, err := verify.CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	agentUnit := readAbs(t, agent)
	if !strings.Contains(agentUnit, "ExecStart="+prefix+"/bin/gpumon-agent") ||
		!strings.Contains(agentUnit, "EnvironmentFile="+prefix+"/etc/gpumon/agent.env") {
		t.Errorf("the installed agent unit should point into the prefix:\n%s", agentUnit)
	}
	for _, hiding := range []string{"PrivateDevices=", "ProtectProc=", "PrivateTmp=", "DevicePolicy=", "PrivateUsers="} {
		if strings.Contains(agentUnit, "\n"+hiding) {
			t.Errorf("the agent unit sets %s, which hides devices or processes from the agent", hiding)
		}
	}
	for _, hardening := range []string{"NoNewPrivileges=yes", "ProtectSystem=strict", "CapabilityBoundingSet=CAP_KILL"} {
		if !strings.Contains(agentUnit, hardening) {
			t.Errorf("the agent unit lacks %s", hardening)
		}
	}
	envFile := filepath.Join(prefix, "etc/gpumon/agent.env")
	if err := os.WriteFile(envFile, []byte("GPUMON_HUB=mine:7865\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := install("--prefix", prefix, "--from", binDir, "--no-user"); code != 0 || readAbs(t, envFile) != "GPUMON_HUB=mine:7865\n" {
		t.Errorf("a second install must keep agent.env: exit %d\n%s", code, out)
	}
	if _, code := install("--help"); code != 0 {
		t.Errorf("install.sh --help: exit %d", code)
	}
	if _, code := install("--bogus"); code != 2 {
		t.Errorf("install.sh --bogus: exit %d, want 2", code)
	}
	if out, code := install("--prefix", t.TempDir(), "--from", t.TempDir(), "--no-user"); code != 1 || !strings.Contains(out, "make build") {
		t.Errorf("install.sh without binaries: exit %d, want 1 saying to run make build:\n%s", code, out)
	}
}

// TestUnitsAndEnvFiles checks that every flag and variable the units and
// settings files use exists in the binary's --help.
func TestUnitsAndEnvFiles(t *testing.T) {
	for file, binary := range map[string]string{
		"deploy/systemd/gpumon-hub.service": "gpumon-hub", "deploy/systemd/hub.env": "gpumon-hub",
		"deploy/systemd/gpumon-agent.service": "gpumon-agent", "deploy/systemd/agent.env": "gpumon-agent",
	} {
		text := readFile(t, file)
		for _, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(line, "ExecStart=") {
				checkArgs(t, file, binary, strings.Fields(line)[1:])
			}
		}
		checkEnv(t, file, binary, text)
	}
}

func readAbs(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
