package fleet

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
)

// Identity: trust on first use. A machine is its hostname and machine id,
// and, once its agent has been welcomed, a secret that only that agent holds
// (the hub keeps a hash of it). A stream that claims a known machine without
// its secret is listed apart, as a conflict; it never becomes that machine.
//
// Machine ids are never published: a reader who knew one could claim the
// machine on a hub that has not met it yet. The API carries a fingerprint.

// SecretCapability is the Hello capability of agents that keep the machine
// secret. A secret is only issued to them: an agent that would drop it
// would come back as a conflict on every reconnect.
const SecretCapability = "machine_secret"

// MaxSecretLen bounds a presented secret.
const MaxSecretLen = 128

// Fingerprint is what the API publishes instead of a machine id: 16 hex
// digits of its SHA-256 ("" for no id).
func Fingerprint(machineID string) string {
	if machineID == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("gpumon machine id\x00" + machineID))
	return hex.EncodeToString(sum[:8])
}

// NewSecret returns a fresh machine secret: 32 random bytes, hex.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte("gpumon machine secret\x00" + secret))
	return hex.EncodeToString(sum[:])
}

func sameHash(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// Claim is what a stream says it is.
type Claim struct {
	Hostname, MachineID, Secret string
	// KeepsSecret: the agent stores a secret it is issued.
	KeepsSecret bool
}

// Verdict is what the hub made of a claim.
type Verdict struct {
	// Secret, when set, is issued to the agent in its Welcome.
	Secret string
	// Conflict: another machine holds this hostname and machine id; the
	// stream got its own entry.
	Conflict bool
}

// lookupAgent finds or creates the machine an agent's claim stands for:
// the machine whose secret it holds; else a machine of that identity that
// has no secret yet (new to this hub, or from a registry older than
// secrets), which adopts the presented or an issued secret; else a new entry
// of its own, a conflict when the identity is taken. Caller must not hold
// f.mu.
func (f *Fleet) lookupAgent(c Claim) (*Machine, Verdict, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	hs := f.byHost[c.Hostname]
	hash := ""
	if c.Secret != "" {
		hash = hashSecret(c.Secret)
	}
	var open *Machine
	taken := false
	for _, m := range hs {
		if m.legacy || m.MachineID != c.MachineID {
			continue
		}
		switch {
		case m.secret == "":
			if open == nil {
				open = m
			}
		case hash != "" && sameHash(m.secret, hash):
			return m, Verdict{}, false
		default:
			taken = true
		}
	}
	var v Verdict
	if hash == "" && c.KeepsSecret {
		v.Secret = NewSecret()
		hash = hashSecret(v.Secret)
	}
	if open != nil {
		open.secret = hash
		return open, v, false
	}
	v.Conflict = taken
	m := f.addLocked(c.Hostname, c.MachineID, false)
	if m == nil {
		return nil, Verdict{}, false
	}
	m.secret = hash
	return m, v, true
}

// lookupLegacy finds or creates the entry of a collector posting for
// hostname. Posts are anonymous under --legacy-open, so they never merge into
// a machine an agent owns: they get an entry of their own.
func (f *Fleet) lookupLegacy(hostname string) (*Machine, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.byHost[hostname] {
		if m.legacy {
			return m, false
		}
	}
	return f.addLocked(hostname, "", true), true
}

// addLocked creates a machine under hostname, or, when the hostname is
// taken, under hostname@<fingerprint> ("@legacy" for a collector); nil when
// the fleet is full (SetMaxMachines). Caller holds f.mu.
func (f *Fleet) addLocked(hostname, machineID string, legacy bool) *Machine {
	if f.max > 0 && f.count >= f.max {
		return nil
	}
	f.count++
	hs := f.byHost[hostname]
	key := hostname
	if len(hs) > 0 || f.exists(key) {
		tag := "legacy"
		if !legacy {
			tag = conflictTag(machineID)
		}
		key = hostname + "@" + tag
		for i := 2; f.exists(key); i++ {
			key = fmt.Sprintf("%s@%s-%d", hostname, tag, i)
		}
	}
	m := &Machine{Key: key, Hostname: hostname, MachineID: machineID, Fingerprint: Fingerprint(machineID), legacy: legacy}
	f.machines.Store(key, m)
	f.members.Add(1)
	f.byHost[hostname] = append(hs, m)
	return m
}

// conflictTag names a second machine of a hostname in its key: the start of
// its fingerprint, never characters of its id.
func conflictTag(machineID string) string {
	if machineID == "" {
		return "unknown"
	}
	return Fingerprint(machineID)[:8]
}

// migrateKey renames a key from before fingerprints, hostname@<first 8
// characters of the machine id>, to hostname@<fingerprint>.
func migrateKey(key, hostname, machineID string) string {
	old := machineID
	if len(old) > 8 {
		old = old[:8]
	}
	if machineID == "" || key == hostname || !strings.HasPrefix(key, hostname+"@"+old) {
		return key
	}
	return hostname + "@" + conflictTag(machineID) + strings.TrimPrefix(key, hostname+"@"+old)
}
