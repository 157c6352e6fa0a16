package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func testExitCodes(t *testing.T, f *fleet) {
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		code int
		say  string
	}{
		{"unknown host in top", nil, []string{"top", "no-such-host"}, 5, `no machine named "no-such-host"`},
		{"unknown host in ps", nil, []string{"ps", "--host", "no-such-host", "--json"}, 5, "no-such-host"},
		{"unknown host in kill", []string{"GPUMON_ADMIN_TOKEN=" + adminToken}, []string{"kill", "no-such-host", "1"}, 5, "no-such-host"},
		{"wrong token", []string{"GPUMON_TOKEN=wrong-token-0001"}, []string{"ls"}, 4, "invalid token"},
		{"no token", []string{"GPUMON_TOKEN="}, []string{"free"}, 4, "token"},
		{"hub down", []string{"GPUMON_HUB=" + freeAddr(t)}, []string{"ls", "--json"}, 3, "cannot reach the hub"},
		{"unknown command", nil, []string{"lsx"}, 2, `unknown command "lsx"`},
		{"bad flag", nil, []string{"ls", "--no-such-flag"}, 2, "no-such-flag"},
		{"bad size", nil, []string{"free", "--min-mem", "lots"}, 2, "--min-mem"},
		{"bad pid", nil, []string{"kill", "gpu-a", "twelve"}, 2, "not a process id"},
		{"bad env", []string{"GPUMON_TIMEOUT=soon"}, []string{"ls"}, 2, "GPUMON_TIMEOUT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.gpumon(t, tc.env, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.say) {
				t.Errorf("gpumon %s: exit %d, stderr %q; want exit %d saying %q", strings.Join(tc.args, " "), r.code, r.stderr, tc.code, tc.say)
			}
			if r.stdout != "" && tc.code != 0 && tc.code != 2 {
				t.Errorf("a failed command printed to stdout: %q", r.stdout)
			}
		})
	}
}

func TestConfigFile(t *testing.T) {
	f := startFleet(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "gpumon", "config")
	if err := os.MkdirAll(filepath.Dir(conf), 0o700); err != nil {
		t.Fatal(err)
	}
	body := "# gpumon CLI\nhub = " + f.grpc + "\ntoken = \"" + apiToken + "\"   # API token\n"
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := run(t, []string{"XDG_CONFIG_HOME=" + dir}, "ls", "--json"); r.code != 0 {
		t.Errorf("ls with hub and token from $XDG_CONFIG_HOME/gpumon/config: exit %d: %s", r.code, r.stderr)
	}
	if r := run(t, []string{"XDG_CONFIG_HOME=" + dir, "GPUMON_TOKEN=wrong-token-0001"}, "ls"); r.code != 4 {
		t.Errorf("GPUMON_TOKEN must win over the config file: exit %d, want 4", r.code)
	}
	if r := run(t, nil, "--config", conf, "free", "--json"); r.code != 0 {
		t.Errorf("free --config FILE: exit %d: %s", r.code, r.stderr)
	}
	if r := run(t, nil, "ls", "--config", filepath.Join(dir, "missing")); r.code != 2 {
		t.Errorf("a missing --config file: exit %d, want 2", r.code)
	}
}

func TestHelpVersionCompletion(t *testing.T) {
	r := run(t, nil, "--version")
	if r.code != 0 || !strings.Contains(r.stdout, version) || !strings.Contains(r.stdout, "abc1234") ||
		!strings.Contains(r.stdout, "2026-01-02T03:04:05Z") {
		t.Errorf("--version = %q (exit %d), want version, commit and date", r.stdout, r.code)
	}
	r = run(t, nil, "--help")
	for _, want := range []string{"ls", "free", "ps", "top HOST", "kill HOST PID...", "usage", "completion",
		"--hub", "[$GPUMON_HUB]", "--token", "--tls-ca", "--json", "Exit codes:", "3  the hub is unreachable",
		"~/.config/gpumon/config"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("gpumon --help lacks %q", want)
		}
	}
	if r.code != 0 {
		t.Errorf("--help: exit %d", r.code)
	}
	if r = run(t, nil, "free", "--help"); r.code != 0 || !strings.Contains(r.stdout, "--min-mem") {
		t.Errorf("free --help: exit %d:\n%s", r.code, r.stdout)
	}
	if r = run(t, nil); r.code != 2 {
		t.Errorf("no command: exit %d, want 2", r.code)
	}
	for _, shell := range []string{"bash", "zsh", "fish"} {
		r := run(t, nil, "completion", shell)
		if r.code != 0 || !strings.Contains(r.stdout, "min-mem") || !strings.Contains(r.stdout, "top") {
			t.Errorf("completion %s: exit %d:\n%s", shell, r.code, r.stdout)
		}
		if shell == "bash" {
			check := exec.Command("bash", "-n")
			check.Stdin = strings.NewReader(r.stdout)
			if out, err := check.CombinedOutput(); err != nil {
				t.Errorf("bash completion does not parse: %v\n%s", err, out)
			}
		}
	}
	if r = run(t, nil, "completion", "tcsh"); r.code != 2 {
		t.Errorf("completion tcsh: exit %d, want 2", r.code)
	}
}
