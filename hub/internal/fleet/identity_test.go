package fleet

import (
	"strings"
	"testing"
	"time"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

func claim(host, id, secret string) Hello {
	h := hello(host, id, 1)
	h.Capabilities = []string{SecretCapability, "kill"}
	h.MachineSecret = secret
	return h
}

func TestTrustOnFirstUse(t *testing.T) {
	f, c := newTestFleet()
	real, w := f.Attach(claim("gpu1", "machine-id-0001", ""))
	if w.Secret == "" || w.Conflict || real.Key != "gpu1" {
		t.Fatalf("first contact: key %q, welcome %+v: want the hostname and a new secret", real.Key, w)
	}
	secret := w.Secret
	f.Ingest(real, 1, report(c.t, 1))

	tests := []struct {
		name, id, secret string
		conflict         bool
	}{
		{"no secret", "machine-id-0001", "", true},
		{"wrong secret", "machine-id-0001", "guessed-secret-000000", true},
		{"the real secret", "machine-id-0001", secret, false},
		{"another machine id", "machine-id-0002", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, w := f.Attach(claim("gpu1", tt.id, tt.secret))
			defer f.Detach(m, m.Conn())
			switch {
			case tt.secret == secret && m != real:
				t.Fatalf("the real secret got %q, want the machine itself", m.Key)
			case tt.secret != secret && m == real:
				t.Fatalf("a claim without the secret became the machine (takeover)")
			case w.Conflict != tt.conflict:
				t.Errorf("conflict = %v, want %v", w.Conflict, tt.conflict)
			}
			if m != real && !m.State().Conflict {
				t.Errorf("%s is not flagged as a conflict", m.Key)
			}
			if tt.secret == "" && w.Secret == "" {
				t.Error("no secret issued to a new entry of an agent that keeps one")
			}
			if strings.Contains(m.Key, "machine-") || strings.Contains(m.Key, "0001") {
				t.Errorf("key %q holds characters of the machine id", m.Key)
			}
		})
	}
	if got := real.State().Report.GetGpuData()[0].GetMemoryUsed(); got != 1 || real.State().LastSeq != 1 {
		t.Errorf("the real machine's state changed: used %d, seq %d", got, real.State().LastSeq)
	}
}

func TestImpostorGetsNoCommands(t *testing.T) {
	f, _ := newTestFleet()
	real, _ := f.Attach(claim("gpu1", "id-1", ""))
	realConn := real.Conn()
	fake, _ := f.Attach(claim("gpu1", "id-1", ""))
	if real.Conn() != realConn || fake.Conn() == realConn {
		t.Fatal("the impostor's stream replaced the real agent's: commands would go to it")
	}
	if got, _ := f.Get("gpu1"); got != real {
		t.Fatal("the hostname key no longer names the real machine")
	}
}

func TestForgetResetsTheSecret(t *testing.T) {
	f, c := newTestFleet()
	m, _ := f.Attach(claim("gpu1", "id-1", ""))
	f.Detach(m, m.Conn())
	c.advance(time.Minute)
	f.Sweep()
	if err := f.Forget("gpu1"); err != nil {
		t.Fatal(err)
	}
	again, w := f.Attach(claim("gpu1", "id-1", "a-new-secret-000000000"))
	if again.Key != "gpu1" || w.Conflict || w.Secret != "" {
		t.Errorf("after forget: key %q, welcome %+v; want the hostname, the presented secret adopted", again.Key, w)
	}
}

func TestRegistryMachineAdoptsFirstSecret(t *testing.T) {
	f, _ := newTestFleet()
	f.Restore([]Record{{Key: "gpu1", Hostname: "gpu1", MachineID: "id-1", Source: "agent", Epoch: 1}})
	m, w := f.Attach(claim("gpu1", "id-1", "kept-secret-0000000000"))
	if m.Key != "gpu1" || w.Conflict {
		t.Fatalf("the known machine was not adopted: %q %+v", m.Key, w)
	}
	f.Detach(m, m.Conn())
	other, w := f.Attach(claim("gpu1", "id-1", "other-secret-000000000"))
	if other == m || !w.Conflict {
		t.Fatal("after adoption another secret still became the machine")
	}
	if recs := f.Export(); recs[0].SecretHash == "" || strings.Contains(recs[0].SecretHash, "kept-secret") {
		t.Errorf("registry keeps %q, want a hash of the secret", recs[0].SecretHash)
	}
}

// An agent that does not keep secrets (older than them) is issued none; its
// reconnects find its entry as before.
func TestAgentWithoutSecretSupport(t *testing.T) {
	f, _ := newTestFleet()
	old := hello("gpu1", "id-1", 1)
	m, w := f.Attach(old)
	if w.Secret != "" {
		t.Fatal("a secret was issued to an agent that cannot keep it")
	}
	f.Detach(m, m.Conn())
	again, w := f.Attach(hello("gpu1", "id-1", 2))
	if again != m || w.Conflict {
		t.Fatal("an agent without secret support lost its machine on reconnect")
	}
}

func TestLegacyPostNeverMergesIntoAnAgent(t *testing.T) {
	f, c := newTestFleet()
	m, _ := f.Attach(claim("gpu1", "id-1", ""))
	f.Ingest(m, 1, report(c.t, 1))
	posted := &gpumonv1.Report{Hostname: "gpu1", MachineId: "id-1", GpuData: []*gpumonv1.Gpu{{Id: 0, Name: "forged"}}}
	legacy := f.IngestLegacy(posted)
	if legacy == m || legacy.Key != "gpu1@legacy" {
		t.Fatalf("legacy post went to %q", legacy.Key)
	}
	st := m.State()
	if st.Source != "agent" || st.Report.GetGpuData()[0].GetName() == "forged" || !st.Conflict {
		t.Errorf("agent's machine: source %q, gpu %q, conflict %v", st.Source, st.Report.GetGpuData()[0].GetName(), st.Conflict)
	}
	if again := f.IngestLegacy(&gpumonv1.Report{Hostname: "gpu1"}); again != legacy {
		t.Error("a second post made another entry")
	}
}

func TestPublishedIdentityIsAFingerprint(t *testing.T) {
	f, c := newTestFleet()
	m, _ := f.Attach(claim("gpu1", "4f1c2a9e8d7b6c5a4f1c2a9e8d7b6c5a", ""))
	f.Ingest(m, 1, report(c.t, 1))
	sum, rep := m.Summary(), m.Rendered()
	fp := Fingerprint("4f1c2a9e8d7b6c5a4f1c2a9e8d7b6c5a")
	if sum.GetMachineId() != "" || rep.GetMachineId() != "" {
		t.Errorf("machine id published: summary %q, report %q", sum.GetMachineId(), rep.GetMachineId())
	}
	if len(fp) != 16 || sum.GetMachineFingerprint() != fp || rep.GetMachineFingerprint() != fp || strings.Contains(fp, "4f1c2a9e") {
		t.Errorf("fingerprint %q, summary %q, report %q", fp, sum.GetMachineFingerprint(), rep.GetMachineFingerprint())
	}
}

func TestOldConflictKeysLoseTheirIDCharacters(t *testing.T) {
	f, _ := newTestFleet()
	f.Restore([]Record{
		{Key: "gpu1", Hostname: "gpu1", MachineID: "aaaaaaaaaaaa", Source: "agent"},
		{Key: "gpu1@bbbbbbbb", Hostname: "gpu1", MachineID: "bbbbbbbbbbbb", Source: "agent"},
		{Key: "gpu1@legacy", Hostname: "gpu1", Source: "legacy"},
	})
	want := "gpu1@" + Fingerprint("bbbbbbbbbbbb")[:8]
	if _, ok := f.Get(want); !ok {
		t.Errorf("no machine under %q: %v", want, keys(f))
	}
	if _, ok := f.Get("gpu1@legacy"); !ok {
		t.Errorf("the collector's key changed: %v", keys(f))
	}
}

func keys(f *Fleet) []string {
	var out []string
	for _, m := range f.List() {
		out = append(out, m.Key)
	}
	return out
}
