package app

import (
	"strings"
	"testing"

	"github.com/gpumon/gpumon/common/tlsclient"
)

func TestValidate(t *testing.T) {
	good := Config{HTTPAddr: ":7864", Hub: "localhost:7865"}
	cases := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"defaults", func(*Config) {}, ""},
		{"hub without a port", func(c *Config) { c.Hub = "hub.lab" }, `--hub "hub.lab": want host:port`},
		{"bad listen address", func(c *Config) { c.HTTPAddr = "7864" }, `--http-addr "7864"`},
		{"certificate without key", func(c *Config) { c.TLS = tlsclient.Options{Cert: "/etc/hostname"} }, "--tls-cert and --tls-key go together"},
		{"missing CA file", func(c *Config) { c.TLS = tlsclient.Options{CA: "/nonexistent/ca.pem"} }, "--tls-ca"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := good
			c.edit(&cfg)
			err := cfg.Validate()
			if c.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}
