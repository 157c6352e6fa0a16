package e2e

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gpumon/gpumon/common/testcert"
)

func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	good, wrong := testcert.NewCA(t, "lab CA"), testcert.NewCA(t, "someone else's CA")
	caPath, wrongPath := good.Write(t, dir, "ca"), wrong.Write(t, dir, "wrong")
	srvCert, srvKey := good.Issue(t, dir, "hub", false)
	cliCert, cliKey := good.Issue(t, dir, "agent", true)
	strangerCert, strangerKey := wrong.Issue(t, dir, "stranger", true)

	httpAddr, grpcAddr := freeAddr(t), freeAddr(t)
	p := start(t, "gpumon-hub", "--data-dir", t.TempDir(), "--http-addr", httpAddr, "--grpc-addr", grpcAddr,
		"--agent-token", agentToken, "--tls-cert", srvCert, "--tls-key", srvKey, "--tls-client-ca", caPath)
	h := &hub{proc: p, http: "https://" + httpAddr, grpc: grpcAddr, agentToken: agentToken}

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(good.PEM)
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

	// gpumon-gateway presents a client certificate to the mTLS hub; without
	// one it is not ready and says why.
	gwCert, gwKey := good.Issue(t, dir, "gateway", true)
	gwAddr, bareAddr := freeAddr(t), freeAddr(t)
	start(t, "gpumon-gateway", "--hub", grpcAddr, "--http-addr", gwAddr, "--tls-ca", caPath,
		"--tls-cert", gwCert, "--tls-key", gwKey, "--tls-server-name", "localhost")
	start(t, "gpumon-gateway", "--hub", grpcAddr, "--http-addr", bareAddr, "--tls-ca", caPath, "--tls-server-name", "localhost")
	waitFor(t, "the gateway with a client certificate to list the machine", 20*time.Second, func() bool {
		resp, err := http.Get("http://" + gwAddr + "/api/v1/machines")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == 200 && strings.Contains(string(b), `"e2e-tls"`)
	})
	waitFor(t, "the gateway without one to answer", 20*time.Second, func() bool {
		resp, err := http.Get("http://" + bareAddr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	if code, v, _ := call(t, "GET", "http://"+bareAddr+"/api/v1/machines", "", nil); code == 200 {
		t.Errorf("a gateway without a client certificate read the mTLS hub: %v", v)
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
