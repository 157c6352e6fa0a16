package app

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestLsHubColumn(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		machines []MachineJSON
		want     []string
		not      []string
	}{
		{"single hub: as before", []MachineJSON{{Host: "gpu-a", Online: true, LastSeen: now}}, []string{"HOST", "online"}, []string{"HUB"}},
		{"several hubs: who holds each, and who is moving", []MachineJSON{
			{Host: "gpu-a", Online: true, LastSeen: now, Hub: "hub-b"},
			{Host: "gpu-b", LastSeen: now, Hub: "hub-c", Reconnecting: true},
		}, []string{"HUB", "hub-b", "hub-c", "reconnecting"}, []string{"offline"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			writeLs(&env{IO: IO{Out: &out}}, LsJSON{Machines: tc.machines}, now)
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("gpumon ls output lacks %q:\n%s", w, out.String())
				}
			}
			for _, n := range tc.not {
				if strings.Contains(out.String(), n) {
					t.Errorf("gpumon ls output has %q:\n%s", n, out.String())
				}
			}
		})
	}
}
