package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DefaultStateDir is where the agent keeps its machine secret: a system
// directory when it runs as root (systemd's StateDirectory=gpumon-agent),
// else the user's state directory ($XDG_STATE_HOME or ~/.local/state).
func DefaultStateDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/gpumon-agent"
	}
	if d := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "gpumon-agent")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "gpumon-agent")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("gpumon-agent-%d", os.Getuid()))
}

// readToken takes the token from --token-file, and says when the token sits
// where others can read it.
func (c *Config) readToken() error {
	if c.TokenInArgs {
		c.Log.Warn("the agent token is on the command line, where every user of this machine can read it (ps); use --token-file or GPUMON_TOKEN")
	}
	if c.TokenFile == "" {
		return nil
	}
	info, err := os.Stat(c.TokenFile)
	if err != nil {
		return fmt.Errorf("--token-file: %w", err)
	}
	b, err := os.ReadFile(c.TokenFile)
	if err != nil {
		return fmt.Errorf("--token-file: %w", err)
	}
	c.Token = strings.TrimSpace(string(b))
	switch {
	case c.Token == "":
		return fmt.Errorf("--token-file %s: the file is empty", c.TokenFile)
	case strings.ContainsAny(c.Token, " \t\r\n"):
		return fmt.Errorf("--token-file %s: want the token alone (one line, no spaces)", c.TokenFile)
	}
	if info.Mode().Perm()&0o077 != 0 {
		c.Log.Warn("the token file can be read by other users; chmod 600 it", "file", c.TokenFile, "mode", info.Mode().Perm().String())
	}
	return nil
}
