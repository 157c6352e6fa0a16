package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpumon/gpumon/common/testcert"
	"github.com/gpumon/gpumon/common/testproc"
)

// TestTLS runs a hub that serves TLS with a certificate from a private CA:
// the CLI connects with --tls-ca (or tls-ca in the config file) and reports
// an unreachable hub (exit 3) when it does not trust the certificate.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	ca, cert, key := writeCerts(t, dir)
	grpcAddr := freeAddr(t)
	testproc.Start(t, filepath.Join(binDir, "gpumon-hub"), "--data-dir", t.TempDir(), "--http-addr", freeAddr(t),
		"--grpc-addr", grpcAddr, "--agent-token", "agent-token-tls-0001", "--tls-cert", cert, "--tls-key", key)
	env := []string{"GPUMON_HUB=" + grpcAddr}
	waitFor(t, "the TLS hub", func() bool { return run(t, env, "ls", "--tls-ca", ca).code == 0 })
	testproc.Start(t, filepath.Join(binDir, "gpumon-agent"), "--hub", grpcAddr, "--token", "agent-token-tls-0001",
		"--tls-ca", ca, "--hostname", "tls-gpu", "--simulate", "rtx4090x4", "--interval", "1s")
	waitFor(t, "the agent over TLS", func() bool {
		r := run(t, append(env, "GPUMON_TLS_CA="+ca), "ls")
		return r.code == 0 && strings.Contains(r.stdout, "tls-gpu")
	})
	conf := filepath.Join(dir, "config")
	if err := os.WriteFile(conf, []byte("tls-ca = "+ca+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := run(t, env, "--config", conf, "free", "--json"); r.code != 0 {
		t.Errorf("tls-ca from the config file: exit %d: %s", r.code, r.stderr)
	}
	if r := run(t, env, "ls"); r.code != 3 {
		t.Errorf("plain gRPC to a TLS hub: exit %d, want 3 (%s)", r.code, r.stderr)
	}
	if r := run(t, env, "ls", "--tls"); r.code != 3 || !strings.Contains(r.stderr, "cannot reach the hub") {
		t.Errorf("TLS without trusting the private CA: exit %d, want 3 (%s)", r.code, r.stderr)
	}
}

// writeCerts writes a CA and a server certificate for 127.0.0.1 and returns
// the paths of the CA certificate, the server certificate and its key.
func writeCerts(t *testing.T, dir string) (ca, cert, key string) {
	t.Helper()
	c := testcert.NewCA(t, "gpumon test CA")
	cert, key = c.Issue(t, dir, "hub", false)
	return c.Write(t, dir, "ca"), cert, key
}
