package app

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTokenFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, file, token, err, warn string
	}{
		{name: "token and newline", file: write("ok", "agent-token-0001\n", 0o600), token: "agent-token-0001"},
		{name: "readable by others", file: write("open", "agent-token-0001", 0o644), token: "agent-token-0001", warn: "chmod 600"},
		{name: "empty", file: write("empty", " \n", 0o600), err: "empty"},
		{name: "two words", file: write("two", "a b", 0o600), err: "one line"},
		{name: "missing", file: filepath.Join(dir, "nope"), err: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			c := Config{TokenFile: tt.file, Log: slog.New(slog.NewTextHandler(&log, nil))}
			err := c.readToken()
			switch {
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("err = %v, want one saying %q", err, tt.err)
			case tt.err == "" && (err != nil || c.Token != tt.token):
				t.Fatalf("token %q, err %v; want %q", c.Token, err, tt.token)
			case !strings.Contains(log.String(), tt.warn):
				t.Errorf("log %q lacks %q", log.String(), tt.warn)
			}
		})
	}
}

func TestTokenAndTokenFileExclusive(t *testing.T) {
	c := Config{Hub: "h:7865", Interval: 2 * time.Second, Token: "t0k3n-123", TokenFile: "/etc/gpumon/agent-token"}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--token-file") {
		t.Errorf("Validate = %v, want a refusal naming both flags", err)
	}
}

func TestTokenOnTheCommandLineWarns(t *testing.T) {
	var log bytes.Buffer
	c := Config{Token: "t0k3n-123", TokenInArgs: true, Log: slog.New(slog.NewTextHandler(&log, nil))}
	if err := c.readToken(); err != nil || !strings.Contains(log.String(), "--token-file") {
		t.Errorf("err %v, log %q: want a warning pointing to --token-file", err, log.String())
	}
}

func TestDefaultStateDirOfAUser(t *testing.T) {
	if os.Geteuid() == 0 {
		if got := DefaultStateDir(); got != "/var/lib/gpumon-agent" {
			t.Errorf("as root: %q", got)
		}
		return
	}
	t.Setenv("XDG_STATE_HOME", "/home/u/.state")
	if got := DefaultStateDir(); got != "/home/u/.state/gpumon-agent" {
		t.Errorf("with XDG_STATE_HOME: %q", got)
	}
}
