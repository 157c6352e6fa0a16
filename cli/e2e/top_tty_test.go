package e2e

import (
	"bufio"
	"bytes"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// testTopTerminal runs gpumon top on a pseudo-terminal (util-linux script):
// it must redraw in place with ANSI and exit 0 on q.
func testTopTerminal(t *testing.T, f *fleet) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Fatal("this test needs script from util-linux (Debian: apt-get install -y bsdutils)")
	}
	line := filepath.Join(binDir, "gpumon") + " --hub " + f.grpc + " --token " + apiToken + " top gpu-a"
	cmd := exec.Command("script", "-qefc", line, "/dev/null")
	cmd.Env = []string{"TERM=xterm", "HOME=" + t.TempDir()}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var seen bytes.Buffer
	frames := 0
	r := bufio.NewReader(stdout)
	for frames < 2 {
		chunk, err := r.ReadString('\n')
		seen.WriteString(chunk)
		frames = strings.Count(seen.String(), "\x1b[H\x1b[2J")
		if err != nil {
			t.Fatalf("gpumon top ended before two frames (%v):\n%q", err, seen.String())
		}
	}
	if _, err := io.WriteString(stdin, "q"); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(r)
	seen.Write(rest)
	if err := cmd.Wait(); err != nil {
		t.Errorf("gpumon top after q: %v", err)
	}
	for _, want := range []string{"gpu-a", "H100", "q or Ctrl-C quits", "\x1b[?25h"} {
		if !strings.Contains(seen.String(), want) {
			t.Errorf("the live view lacks %q", want)
		}
	}
}
