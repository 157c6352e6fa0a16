package fleet

import (
	"testing"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// TestMaxMachines: past the limit a new machine, by stream or by post, is
// refused and nothing is added; known machines keep reporting; forgetting
// one makes room; a registry restored beyond the limit is kept whole.
func TestMaxMachines(t *testing.T) {
	f, c := newTestFleet()
	f.SetMaxMachines(2)
	a, _ := f.Attach(hello("gpu1", "id-1", 1))
	if a == nil || f.IngestLegacy(&gpumonv1.Report{Hostname: "old"}) == nil {
		t.Fatal("machines under the limit refused")
	}
	if m, _ := f.Attach(hello("gpu2", "id-2", 1)); m != nil {
		t.Error("a third machine attached with a limit of 2")
	}
	if f.IngestLegacy(&gpumonv1.Report{Hostname: "new"}) != nil {
		t.Error("a third machine posted with a limit of 2")
	}
	if m, _ := f.Attach(hello("gpu1", "id-other", 1)); m != nil {
		t.Error("a second machine id for a known hostname is a new machine, and was added")
	}
	if f.Len() != 2 || len(f.List()) != 2 {
		t.Fatalf("%d machines, want 2", f.Len())
	}
	if m, _ := f.Attach(hello("gpu1", "id-1", 2)); m != a {
		t.Error("a known machine reconnecting was refused")
	}
	if f.IngestLegacy(&gpumonv1.Report{Hostname: "old"}) == nil {
		t.Error("a known machine posting again was refused")
	}
	c.advance(MinOfflineAfter + 1)
	f.Sweep()
	if err := f.Forget("old"); err != nil {
		t.Fatal(err)
	}
	if f.IngestLegacy(&gpumonv1.Report{Hostname: "new"}) == nil {
		t.Error("no room after forgetting a machine")
	}

	g, _ := newTestFleet()
	g.SetMaxMachines(1)
	g.Restore(f.Export())
	if g.Len() != 2 {
		t.Errorf("restored %d machines over a limit of 1, want all 2 kept", g.Len())
	}
	if m, _ := g.Attach(hello("gpu9", "id-9", 1)); m != nil {
		t.Error("a new machine attached to a fleet restored over its limit")
	}
}
