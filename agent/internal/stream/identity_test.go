package stream

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestSecretIssuedKeptAndPresented(t *testing.T) {
	rec := newRecorder()
	hub := startFakeHub(t, rec, "127.0.0.1:0")
	hub.issue = "issued-secret-0123456789"
	addr := hub.addr
	state := StateDir(filepath.Join(t.TempDir(), "state"))
	if err := state.Prepare(); err != nil {
		t.Fatal(err)
	}
	c := newTestClient(addr, KillPolicy{})
	c.cfg.SaveSecret = state.SaveSecret
	stop := run(t, c)
	defer stop()
	waitFor(t, "a snapshot", func() bool { _, seqs, _ := rec.snapshot(); return len(seqs) >= 1 })
	hub.srv.Stop()
	hub = startFakeHub(t, rec, addr)
	defer hub.srv.Stop()
	waitFor(t, "the second hello", func() bool { h, _, _ := rec.snapshot(); return len(h) >= 2 })

	hellos, _, _ := rec.snapshot()
	first, second := hellos[0], hellos[1]
	if first.GetMachineSecret() != "" || second.GetMachineSecret() != "issued-secret-0123456789" {
		t.Errorf("secrets presented: %q then %q", first.GetMachineSecret(), second.GetMachineSecret())
	}
	if !slices.Contains(first.GetCapabilities(), SecretCapability) {
		t.Errorf("capabilities %v lack %q", first.GetCapabilities(), SecretCapability)
	}
	if b := first.GetBuffer().AsDuration(); b < 9*time.Minute || b > 11*time.Minute {
		t.Errorf("buffer announced as %s, want about the default 10 min", b)
	}
	got, err := state.LoadSecret()
	if err != nil || got != "issued-secret-0123456789" {
		t.Fatalf("state dir holds %q (%v)", got, err)
	}
	info, err := os.Stat(filepath.Join(string(state), SecretFileName))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode %v (%v), want 0600", info.Mode().Perm(), err)
	}
	dir, _ := os.Stat(string(state))
	if dir.Mode().Perm() != 0o700 {
		t.Errorf("state dir mode %v, want 0700", dir.Mode().Perm())
	}
}
