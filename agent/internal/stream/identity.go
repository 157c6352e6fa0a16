package stream

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// SecretFileName is the file in the state directory that holds the machine
// secret.
const SecretFileName = "machine-secret"

// machineSecret is the secret to present in Hello.
func (c *Client) machineSecret() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.secret
}

// bufferWindow is how far back the buffer reaches at the current interval.
func (c *Client) bufferWindow() time.Duration {
	return time.Duration(c.buf.cap) * time.Duration(c.interval.Load())
}

// welcomed keeps a secret the hub issued and says when the hub lists this
// agent apart from the machine it claims.
func (c *Client) welcomed(w *gpumonv1.Welcome) {
	if s := w.GetMachineSecret(); s != "" {
		c.mu.Lock()
		c.secret = s
		c.mu.Unlock()
		if c.cfg.SaveSecret != nil {
			if err := c.cfg.SaveSecret(s); err != nil {
				c.log.Error("keep the machine secret the hub issued; after a restart this agent will be listed as a conflict", "err", err)
			} else {
				c.log.Info("the hub issued this machine a secret; kept in the state directory")
			}
		}
	}
	if conflict := w.GetIdentityConflict(); conflict != c.conflict.Swap(conflict) && conflict {
		c.log.Warn("the hub knows another machine with this hostname and machine id, and this agent does not hold its secret: it lists this agent apart, as a conflict. If this is that machine and its state directory was lost, an admin forgets the old entry (offline) and then this one",
			"key", w.GetMachineKey())
	}
}

// StateDir keeps what the agent must remember across restarts: the machine
// secret. The directory is created with mode 0700, the file with 0600.
type StateDir string

// Prepare creates the directory.
func (d StateDir) Prepare() error {
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	return nil
}

// LoadSecret reads the machine secret; "" when there is none yet.
func (d StateDir) LoadSecret() (string, error) {
	b, err := os.ReadFile(filepath.Join(string(d), SecretFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read machine secret: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// SaveSecret replaces the machine secret (temporary file, fsync, rename).
func (d StateDir) SaveSecret(secret string) error {
	tmp, err := os.CreateTemp(string(d), ".machine-secret-*")
	if err != nil {
		return fmt.Errorf("write machine secret: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(secret + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o600)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(string(d), SecretFileName))
	}
	if err != nil {
		return fmt.Errorf("write machine secret: %w", err)
	}
	return nil
}
