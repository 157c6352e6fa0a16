package tlsclient_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpumon/gpumon/common/testcert"
	"github.com/gpumon/gpumon/common/tlsclient"
)

// mtlsServer accepts TLS connections that present a client certificate
// signed by ca, writes "ok" and closes.
func mtlsServer(t *testing.T, ca *testcert.CA, dir string) string {
	t.Helper()
	cert, key := ca.Issue(t, dir, "hub", false)
	kp, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.PEM)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{kp},
		ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if err := c.(*tls.Conn).Handshake(); err == nil {
					_, _ = c.Write([]byte("ok"))
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func dial(addr string, cfg *tls.Config) error {
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	b, err := io.ReadAll(c)
	if err == nil && string(b) != "ok" {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	lab, other := testcert.NewCA(t, "lab CA"), testcert.NewCA(t, "another CA")
	addr := mtlsServer(t, lab, dir)
	caPath := lab.Write(t, dir, "ca")
	cert, key := lab.Issue(t, dir, "client", true)
	strangerCert, strangerKey := other.Issue(t, dir, "stranger", true)

	cases := []struct {
		name string
		opts tlsclient.Options
		ok   bool
	}{
		{"CA and client certificate", tlsclient.Options{CA: caPath, Cert: cert, Key: key, ServerName: "127.0.0.1"}, true},
		{"server name given", tlsclient.Options{CA: caPath, Cert: cert, Key: key, ServerName: "localhost"}, true},
		{"no client certificate", tlsclient.Options{CA: caPath, ServerName: "localhost"}, false},
		{"certificate from another CA", tlsclient.Options{CA: caPath, Cert: strangerCert, Key: strangerKey, ServerName: "localhost"}, false},
		{"wrong server name", tlsclient.Options{CA: caPath, Cert: cert, Key: key, ServerName: "gpu-hub.example"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := c.opts.Config()
			if err != nil {
				t.Fatal(err)
			}
			if err := dial(addr, cfg); (err == nil) != c.ok {
				t.Errorf("dial: %v, want success %v", err, c.ok)
			}
		})
	}
}

func TestBadOptions(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	write(t, notPEM, "not a certificate")
	cases := []struct {
		opts tlsclient.Options
		want string
	}{
		{tlsclient.Options{Cert: "a.crt"}, "--tls-cert and --tls-key go together"},
		{tlsclient.Options{CA: filepath.Join(dir, "missing.pem")}, "--tls-ca"},
		{tlsclient.Options{CA: notPEM}, "holds no PEM certificate"},
		{tlsclient.Options{Cert: notPEM, Key: notPEM}, "load --tls-cert/--tls-key"},
	}
	for _, c := range cases {
		_, err := c.opts.Config()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one containing %q", c.opts, err, c.want)
		}
	}
	if (tlsclient.Options{}).Enabled() || !(tlsclient.Options{CA: "x"}).Enabled() {
		t.Error("Enabled: want true only when an option is set")
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
