// Package testdeb gives tests the Debian packages they run: missing ones
// are installed when the test runs as root (as the Makefile does for
// prometheus), so a clean CI machine needs no setup.
package testdeb

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Ensure makes the programs of pkgs (each package's program has its name)
// available, installing the missing packages with apt-get when running as
// root. It reports whether all are there; when they are not, it logs what
// to install. A failed install fails the test.
func Ensure(t testing.TB, pkgs ...string) bool {
	t.Helper()
	var missing []string
	for _, p := range pkgs {
		if _, err := exec.LookPath(p); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return true
	}
	if os.Geteuid() != 0 {
		t.Logf("%s missing and not root: sudo apt-get install -y %s", strings.Join(missing, ", "), strings.Join(missing, " "))
		return false
	}
	for _, args := range [][]string{{"update", "-qq"}, append([]string{"install", "-y", "-qq", "--no-install-recommends"}, missing...)} {
		c := exec.Command("apt-get", args...)
		c.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("apt-get %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return true
}
