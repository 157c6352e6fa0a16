//go:build ecosystem

package ecosystem

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpumon/gpumon/cli/internal/testfleet"
)

// TestInstallScript installs into a temporary prefix and verifies the
// installed units with systemd-analyze.
func TestInstallScript(t *testing.T) {
	need(t, "systemd", "systemd-analyze", "--version")
	prefix := t.TempDir()
	install := func(args ...string) (string, int) {
		return run(t, exec.Command(filepath.Join(root, "deploy/install.sh"), args...))
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

// TestRelease runs `make release` into a temporary directory, checks the
// archive and its checksums, the versions the binaries print, the embedded
// web UI, and installs from the unpacked archive.
func TestRelease(t *testing.T) {
	dist := t.TempDir()
	const version = "1.2.3-test"
	mk := exec.Command("make", "--no-print-directory", "release", "DIST="+dist, "VERSION="+version)
	mk.Dir = root
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make release: %v\n%s", err, out)
	}
	matches, _ := filepath.Glob(filepath.Join(dist, "gpumon-"+version+"-*.tar.gz"))
	if len(matches) != 1 {
		t.Fatalf("make release made %v, want one gpumon-%s-OS-ARCH.tar.gz", matches, version)
	}
	sums := exec.Command("sha256sum", "--check", "--strict", "SHA256SUMS")
	sums.Dir = dist
	if out, err := sums.CombinedOutput(); err != nil {
		t.Errorf("SHA256SUMS: %v\n%s", err, out)
	}
	unpacked := t.TempDir()
	if out, err := exec.Command("tar", "-xzf", matches[0], "-C", unpacked).CombinedOutput(); err != nil {
		t.Fatalf("unpack: %v\n%s", err, out)
	}
	top := filepath.Join(unpacked, strings.TrimSuffix(filepath.Base(matches[0]), ".tar.gz"))
	for _, b := range []string{"gpumon-hub", "gpumon-agent", "gpumon-gateway", "gpumon-loadgen", "gpumon"} {
		out, err := exec.Command(filepath.Join(top, "bin", b), "--version").CombinedOutput()
		full := strings.Contains(string(out), "commit ") && strings.Contains(string(out), "built 20")
		if err != nil || !strings.Contains(string(out), version) || (!full && b != "gpumon-loadgen") {
			t.Errorf("%s --version = %q (%v), want version, commit and build date", b, out, err)
		}
	}
	for _, f := range []string{"README.md", "README.zh-CN.md", "deploy/install.sh", "deploy/grafana/gpumon-dashboard.json", "examples/curl.md"} {
		if _, err := os.Stat(filepath.Join(top, f)); err != nil {
			t.Errorf("the release lacks %s", f)
		}
	}
	checkEmbeddedUI(t, filepath.Join(top, "bin"))
	prefix := t.TempDir()
	if out, err := exec.Command(filepath.Join(top, "deploy/install.sh"), "--prefix", prefix, "--no-user").CombinedOutput(); err != nil {
		t.Errorf("install.sh from the release: %v\n%s", err, out)
	}
}

// checkEmbeddedUI starts the release's hub and compares its page with the
// web UI built in webui/site/app.
func checkEmbeddedUI(t *testing.T, bin string) {
	t.Helper()
	want, err := os.ReadFile(filepath.Join(root, "webui/site/app/index.html"))
	if err != nil {
		t.Fatalf("the web UI is not built (make webui): %v", err)
	}
	h := testfleet.StartHub(t, bin)
	resp, err := http.Get(h.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(got) != string(want) {
		t.Errorf("the release's hub serves %d %.200q, want the built web UI", resp.StatusCode, got)
	}
}
