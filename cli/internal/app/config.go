package app

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

const configHelp = `Config file (optional; flags and GPUMON_* variables win over it):
  ~/.config/gpumon/config (or $XDG_CONFIG_HOME/gpumon/config, or --config FILE)
  holds "key = value" lines; "#" starts a comment. Keys: hub, token,
  admin-token, tls, tls-ca, tls-cert, tls-key, tls-server-name. Example:
    hub = gpu-hub.lab:7865
    token = 3f9c...            # API token (when the hub has --api-token)
    admin-token = 8a1d...      # for gpumon kill
  Keep it private: chmod 600 ~/.config/gpumon/config.`

// configKeys are the keys a config file may set, each naming a flag.
var configKeys = map[string]bool{"hub": true, "token": true, "admin-token": true, "tls": true,
	"tls-ca": true, "tls-cert": true, "tls-key": true, "tls-server-name": true}

func defaultConfigPath() string {
	if dir := os.Getenv("XDG_CONFIG_HOME"); dir != "" {
		return filepath.Join(dir, "gpumon", "config")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".config", "gpumon", "config")
}

// parseConfig reads "key = value" lines.
func parseConfig(r io.Reader) (map[string]string, error) {
	values := map[string]string{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "#"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		key, value = strings.TrimSpace(key), strings.Trim(strings.TrimSpace(value), `"'`)
		if !ok || key == "" {
			return nil, fmt.Errorf("line %d: want key = value", n)
		}
		if !configKeys[key] {
			return nil, fmt.Errorf("line %d: unknown key %q", n, key)
		}
		values[key] = value
	}
	return values, sc.Err()
}

// applyConfig fills the flags that neither the command line nor the
// environment gave from the config file. A missing default file is fine; a
// missing file named by --config is an error.
func (c *commonFlags) applyConfig(given map[string]bool) error {
	path, explicit := c.config, c.config != ""
	if !explicit {
		path = defaultConfigPath()
	}
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return nil
	}
	if err != nil {
		return usageError("config file: %v", err)
	}
	defer f.Close()
	values, err := parseConfig(f)
	if err != nil {
		return usageError("config file %s: %v", path, err)
	}
	set := map[string]*string{"hub": &c.hub, "token": &c.token, "admin-token": &c.adminToken,
		"tls-ca": &c.tlsOpts.CA, "tls-cert": &c.tlsOpts.Cert, "tls-key": &c.tlsOpts.Key, "tls-server-name": &c.tlsOpts.ServerName}
	for key, value := range values {
		if given[key] {
			continue
		}
		if key == "tls" {
			c.tls = value == "true" || value == "1" || value == "yes"
			continue
		}
		*set[key] = value
	}
	return nil
}
