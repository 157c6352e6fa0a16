package e2e

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ca is a throwaway certificate authority.
type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, name string) *ca {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &ca{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue writes a certificate and key for 127.0.0.1 into dir; returns their paths.
func (c *ca) issue(t *testing.T, dir, name string, client bool) (string, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	usage := x509.ExtKeyUsageServerAuth
	if client {
		usage = x509.ExtKeyUsageClientAuth
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certPath, keyPath := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	write(t, certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	write(t, keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
	return certPath, keyPath
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	good, wrong := newCA(t, "lab CA"), newCA(t, "someone else's CA")
	caPath, wrongPath := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "wrong.pem")
	write(t, caPath, good.pem)
	write(t, wrongPath, wrong.pem)
	srvCert, srvKey := good.issue(t, dir, "hub", false)
	cliCert, cliKey := good.issue(t, dir, "agent", true)
	strangerCert, strangerKey := wrong.issue(t, dir, "stranger", true)

	httpAddr, grpcAddr := freeAddr(t), freeAddr(t)
	p := start(t, "gpumon-hub", "--data-dir", t.TempDir(), "--http-addr", httpAddr, "--grpc-addr", grpcAddr,
		"--agent-token", agentToken, "--tls-cert", srvCert, "--tls-key", srvKey, "--tls-client-ca", caPath)
	h := &hub{proc: p, http: "https://" + httpAddr, grpc: grpcAddr, agentToken: agentToken}

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(good.pem)
	clientWith := func(certFile, keyFile string) *http.Client {
		tc := &tls.Config{RootCAs: pool}
		if certFile != "" {
			kp, err := tls.LoadX509KeyPair(certFile, keyFile)
			if err != nil {
				t.Fatal(err)
			}
			tc.Certificates = []tls.Certificate{kp}
		}
		return &http.Client{Transport: &http.Transport{TLSClientConfig: tc}, Timeout: 5 * time.Second}
	}
	waitFor(t, "hub over https", 15*time.Second, func() bool {
		resp, err := clientWith(cliCert, cliKey).Get(h.http + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	if _, err := clientWith("", "").Get(h.http + "/healthz"); err == nil {
		t.Error("https without a client certificate was accepted")
	}
	if _, err := clientWith(strangerCert, strangerKey).Get(h.http + "/healthz"); err == nil {
		t.Error("https with a certificate from another CA was accepted")
	}

	start(t, "gpumon-agent", "--hub", grpcAddr, "--token", agentToken, "--hostname", "e2e-tls", "--simulate", "rtx4090x4",
		"--interval", "1s", "--tls-ca", caPath, "--tls-cert", cliCert, "--tls-key", cliKey, "--tls-server-name", "localhost")
	bad := start(t, "gpumon-agent", "--hub", grpcAddr, "--token", agentToken, "--hostname", "e2e-badca", "--simulate", "rtx4090x4",
		"--interval", "1s", "--tls-ca", wrongPath, "--tls-cert", cliCert, "--tls-key", cliKey, "--tls-server-name", "localhost")
	waitFor(t, "agent over mTLS", 20*time.Second, func() bool {
		resp, err := clientWith(cliCert, cliKey).Get(h.http + "/api/gpu-stats")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), `"e2e-tls"`)
	})
	waitFor(t, "the wrong-CA agent to report the certificate error", 20*time.Second, func() bool {
		return strings.Contains(bad.out.String(), "certificate")
	})
	resp, err := clientWith(cliCert, cliKey).Get(h.http + "/api/v1/machines")
	if err != nil {
		t.Fatal(err)
	}
	var list struct{ Machines []struct{ Key string } }
	_ = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list.Machines) != 1 || list.Machines[0].Key != "e2e-tls" {
		t.Errorf("machines = %v: only the agent that trusts the hub's CA may get through", list.Machines)
	}
}

func TestHTTPHostileClients(t *testing.T) {
	h := newHub(t)
	addr := strings.TrimPrefix(h.http, "http://")

	t.Run("slow headers are cut off", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprint(c, "GET /api/gpu-stats HTTP/1.1\r\nHost: x\r\n")
		begin := time.Now()
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, err = io.ReadAll(c) // the server closes the connection
		took := time.Since(begin)
		if err != nil {
			t.Fatalf("connection not closed by the hub: %v", err)
		}
		t.Logf("a client that never finished its headers was cut off after %s", took.Round(100*time.Millisecond))
	})

	t.Run("huge headers refused", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, h.http+"/api/gpu-stats", nil)
		req.Header.Set("X-Junk", strings.Repeat("a", 1<<20))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("1 MiB header: %d, want 431", resp.StatusCode)
		}
	})

	t.Run("path traversal serves no file", func(t *testing.T) {
		for _, path := range []string{"/../../../../etc/passwd", "/assets/..%2f..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/etc/passwd", "/..\\..\\etc\\passwd"} {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			c.Close()
			if strings.Contains(string(b), "root:") {
				t.Errorf("%s served /etc/passwd", path)
			}
		}
	})

	t.Run("wrong methods", func(t *testing.T) {
		for _, m := range []struct{ method, path string }{{"PUT", "/api/gpu-stats"}, {"PATCH", "/api/v1/machines"}, {"POST", "/"}, {"DELETE", "/api/v1/query"}} {
			code, v, _ := call(t, m.method, h.http+m.path, "", nil)
			if code != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %d %v, want 405", m.method, m.path, code, v)
			}
		}
	})
}
