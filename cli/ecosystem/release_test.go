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
