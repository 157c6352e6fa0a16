// Package tlsclient builds the TLS configuration with which gpumon's clients
// (the agent, the CLI, gpumon-gateway) dial a hub: a CA to verify the hub,
// optionally a client certificate for hubs that require one (mTLS), and the
// name to expect in the hub's certificate.
package tlsclient

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
)

// Options names the files and the server name. Flag names in messages are
// the ones every binary uses: --tls-ca, --tls-cert, --tls-key,
// --tls-server-name.
type Options struct {
	// CA is a PEM file of the certificates that may sign the hub's; empty
	// means the system's roots.
	CA string
	// Cert and Key are the PEM client certificate and key (both or neither).
	Cert, Key string
	// ServerName is the name to expect in the hub's certificate; when empty,
	// gRPC expects the host part of the address it dials.
	ServerName string
}

// Register defines --tls-ca, --tls-cert, --tls-key and --tls-server-name on
// fs, each setting its field of o, with the same words in every binary.
func (o *Options) Register(fs *flag.FlagSet) {
	fs.StringVar(&o.CA, "tls-ca", "", "PEM CA `file` to verify the hub's certificate (enables TLS)")
	fs.StringVar(&o.Cert, "tls-cert", "", "PEM client certificate `file` for hubs that require one (mTLS; enables TLS)")
	fs.StringVar(&o.Key, "tls-key", "", "PEM client key `file` for --tls-cert")
	fs.StringVar(&o.ServerName, "tls-server-name", "", "`name` to expect in the hub's certificate (default: the --hub host)")
}

// Enabled reports whether any TLS option is set.
func (o Options) Enabled() bool { return o.CA != "" || o.Cert != "" || o.Key != "" }

// Validate checks the options without reading the files' contents.
func (o Options) Validate() error {
	var errs []error
	if (o.Cert == "") != (o.Key == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together"))
	}
	for _, f := range []struct{ flag, path string }{{"--tls-ca", o.CA}, {"--tls-cert", o.Cert}, {"--tls-key", o.Key}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.flag, err))
		}
	}
	return errors.Join(errs...)
}

// Config returns the client configuration.
func (o Options) Config() (*tls.Config, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: o.ServerName}
	if o.CA != "" {
		pem, err := os.ReadFile(o.CA)
		if err != nil {
			return nil, fmt.Errorf("read --tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-ca %s holds no PEM certificate", o.CA)
		}
		cfg.RootCAs = pool
	}
	if o.Cert != "" {
		cert, err := tls.LoadX509KeyPair(o.Cert, o.Key)
		if err != nil {
			return nil, fmt.Errorf("load --tls-cert/--tls-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
