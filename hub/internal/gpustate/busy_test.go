package gpustate

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// TestBusyOrFree: every readable GPU is exactly one of busy and free; the
// GPU at 3 % with no process that used to count as both is free.
func TestBusyOrFree(t *testing.T) {
	u := proto.Uint32
	for _, tc := range []struct {
		name       string
		g          *gpumonv1.Gpu
		busy, free bool
	}{
		{"idle RTX 4090", gpu("RTX 4090", 24564, 3, u(0)), false, true},
		{"3 % and no process", gpu("H100", 81559, 2, u(3)), false, true},
		{"a desktop's X server only", gpu("RTX 4090", 24564, 412, u(1), proc("root", "graphics", 400)), false, true},
		{"a compute process at 0 %", gpu("H100", 81559, 500, u(0), proc("carol", "compute", 500)), true, false},
		{"busy without a process we see", gpu("H100", 81559, 0, u(40)), true, false},
		{"memory held without a process we see", gpu("H100", 81559, 20000, u(0)), true, false},
		{"B200 at 90 %", gpu("B200", 183359, 91000, u(90), proc("bob", "compute", 91000)), true, false},
		{"no total known", gpu("H100", 0, 0, u(0)), false, false},
		{"cannot be read", &gpumonv1.Gpu{Name: "H100", MemoryTotal: 81559, Utilization: u(90), Error: "GPU is lost"}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Busy(tc.g); got != tc.busy {
				t.Errorf("Busy = %v, want %v", got, tc.busy)
			}
			if got := Free(DefaultCriteria(), tc.g); got != tc.free {
				t.Errorf("Free = %v, want %v", got, tc.free)
			}
		})
	}
}

func TestRow(t *testing.T) {
	u := proto.Uint32
	g := gpu("H100", 81559, 30000, u(70), proc("bob", "compute", 20000), proc("alice", "compute", 9000), proc("bob", "compute", 1000), proc("", "compute", 10))
	g.Id, g.Temperature, g.PowerDraw, g.IdleHeld = 3, u(66), proto.Float64(412.5), true
	r := Row("gpu-a", "gpu-a.lab", true, g)
	if r.GetMachine() != "gpu-a" || r.GetHostname() != "gpu-a.lab" || !r.GetOnline() || r.GetIndex() != 3 || r.GetName() != "H100" {
		t.Errorf("identity: %v", r)
	}
	if r.GetUtilization() != 70 || r.GetMemoryUsed() != 30000 || r.GetMemoryTotal() != 81559 || r.GetMemoryFree() != 51559 ||
		r.GetTemperature() != 66 || r.GetPowerDraw() != 412.5 || r.GetProcessCount() != 4 {
		t.Errorf("figures: %v", r)
	}
	if !slices.Equal(r.GetUsers(), []string{"alice", "bob"}) {
		t.Errorf("users %q, want alice and bob once each, sorted", r.GetUsers())
	}
	if !r.GetBusy() || r.GetFree() || !r.GetIdleHeld() {
		t.Errorf("state: busy %v free %v idle-held %v", r.GetBusy(), r.GetFree(), r.GetIdleHeld())
	}
	if r := Row("gpu-a", "gpu-a", false, gpu("RTX 4090", 24564, 3, nil)); r.Utilization != nil || !r.GetFree() || r.GetBusy() || r.GetOnline() {
		t.Errorf("an idle card of an offline machine with unknown utilisation: %v", r)
	}
}
