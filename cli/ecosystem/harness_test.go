//go:build ecosystem

package ecosystem

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gpumon/gpumon/cli/internal/testfleet"
	"github.com/gpumon/gpumon/common/testproc"
)

// binDir holds every binary, built once; root is the repository root.
var binDir, root string

func TestMain(m *testing.M) {
	_, file, _, _ := runtime.Caller(0)
	root = filepath.Join(filepath.Dir(file), "..", "..")
	dir, err := os.MkdirTemp("", "gpumon-ecosystem-")
	if err == nil {
		binDir = dir
		err = testproc.Build(dir, "-X main.version=0.0.0-test", testproc.Packages()...)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// need fails the test, naming the Debian package, when check fails.
func need(t *testing.T, pkg string, check ...string) {
	t.Helper()
	if out, err := exec.Command(check[0], check[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("this test needs Debian's %s: run 'apt-get install -y %s' as root, or with sudo (the make target installs it as root): %v\n%s",
			pkg, pkg, err, out)
	}
}

// help is the --help output of one binary.
func help(t *testing.T, binary string) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(binDir, binary), "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --help: %v\n%s", binary, err, out)
	}
	return string(out)
}

// readFile reads a file of the repository.
func readFile(t *testing.T, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// startFleet runs a hub with one simulated agent, gpu-a, that allows kills,
// and waits until its GPU metrics are in the history.
func startFleet(t *testing.T, extra ...string) *testfleet.Hub {
	t.Helper()
	h := testfleet.StartHub(t, binDir, extra...)
	h.StartAgent(t, "gpu-a", "dgxh100", "--allow-kill")
	testproc.WaitFor(t, "gpu-a's GPU metrics in the history", 30*time.Second, func() bool {
		code, body, err := h.Get("/api/v1/query?query=DCGM_FI_DEV_GPU_UTIL")
		return err == nil && code == 200 && strings.Contains(string(body), `"Hostname":"gpu-a"`)
	})
	return h
}

// execOutput runs a command and returns its combined output.
func execOutput(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// run runs cmd and returns its combined output and exit status; only a
// failure to start it fails the test.
func run(t *testing.T, cmd *exec.Cmd) (string, int) {
	t.Helper()
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}
