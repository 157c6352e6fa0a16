package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpumon/gpumon/cli/internal/testfleet"
)

// TestTLS runs a hub that serves TLS with a certificate from a private CA:
// the CLI connects with --tls-ca (or tls-ca in the config file) and reports
// an unreachable hub (exit 3) when it does not trust the certificate.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	ca, cert, key := writeCerts(t, dir)
	grpcAddr := freeAddr(t)
	testfleet.Start(t, filepath.Join(binDir, "gpumon-hub"), "--data-dir", t.TempDir(), "--http-addr", freeAddr(t),
		"--grpc-addr", grpcAddr, "--agent-token", "agent-token-tls-0001", "--tls-cert", cert, "--tls-key", key)
	env := []string{"GPUMON_HUB=" + grpcAddr}
	waitFor(t, "the TLS hub", func() bool { return run(t, env, "ls", "--tls-ca", ca).code == 0 })
	testfleet.Start(t, filepath.Join(binDir, "gpumon-agent"), "--hub", grpcAddr, "--token", "agent-token-tls-0001",
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
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gpumon test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	srvKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	caCert, _ := x509.ParseCertificate(caDER)
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, cert, key = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "hub.pem"), filepath.Join(dir, "hub.key")
	for path, block := range map[string]*pem.Block{
		ca: {Type: "CERTIFICATE", Bytes: caDER}, cert: {Type: "CERTIFICATE", Bytes: srvDER},
		key: {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return ca, cert, key
}
