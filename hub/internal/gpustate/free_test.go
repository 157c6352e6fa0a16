package gpustate

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

func proc(user, kind string, mib uint32) *gpumonv1.Process {
	return &gpumonv1.Process{Pid: 100, Username: user, GpuUsageType: kind, GpuMemoryUsage: mib}
}

func gpu(name string, total, used uint32, util *uint32, procs ...*gpumonv1.Process) *gpumonv1.Gpu {
	return &gpumonv1.Gpu{Name: name, MemoryTotal: total, MemoryUsed: used, Utilization: util, Processes: procs}
}

func TestFreeByDefault(t *testing.T) {
	c := DefaultCriteria()
	u := proto.Uint32
	for _, tc := range []struct {
		name string
		g    *gpumonv1.Gpu
		free bool
	}{
		{"idle RTX 4090", gpu("RTX 4090", 24564, 3, u(0)), true},
		{"a desktop's X server only", gpu("RTX 4090", 24564, 412, u(1), proc("root", "graphics", 400)), true},
		{"utilisation unknown", gpu("old card", 16384, 0, nil), true},
		{"at the utilisation limit", gpu("H100", 81559, 0, u(10)), true},
		{"just over it", gpu("H100", 81559, 0, u(11)), false},
		{"B200 at 90 %", gpu("B200", 183359, 91000, u(90), proc("bob", "compute", 91000)), false},
		{"a compute process at 0 %", gpu("H100", 81559, 500, u(0), proc("carol", "compute", 500)), false},
		{"a process of unknown type", gpu("H100", 81559, 500, u(0), proc("dave", "", 500)), false},
		{"memory held without a process we see", gpu("H100", 81559, 20000, u(0)), false},
		{"89 % free", gpu("H100", 100000, 11000, u(0)), false},
		{"90 % free", gpu("H100", 100000, 10000, u(0)), true},
		{"no total known", gpu("H100", 0, 0, u(0)), false},
		{"cannot be read", &gpumonv1.Gpu{Name: "H100", MemoryTotal: 81559, Utilization: u(0), Error: "GPU is lost"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Free(c, tc.g); got != tc.free {
				t.Errorf("Free = %v, want %v", got, tc.free)
			}
		})
	}
}

func TestFreeCriteria(t *testing.T) {
	u := proto.Uint32
	shared := gpu("H100", 81559, 20000, u(30), proc("bob", "compute", 20000))
	graphics := gpu("RTX 4090", 24564, 412, u(0), proc("root", "graphics", 400))
	idle := gpu("H100", 81559, 0, u(0))
	for _, tc := range []struct {
		name string
		req  *gpumonv1.ListFreeGpusRequest
		g    *gpumonv1.Gpu
		free bool
	}{
		{"shared: a card with a job that leaves room", &gpumonv1.ListFreeGpusRequest{Shared: true, MaxUtilization: u(50), MinFreePercent: u(50)}, shared, true},
		{"not shared by default", &gpumonv1.ListFreeGpusRequest{MaxUtilization: u(50), MinFreePercent: u(50)}, shared, false},
		{"idle: no process at all, graphics included", &gpumonv1.ListFreeGpusRequest{Idle: true}, graphics, false},
		{"idle card with idle", &gpumonv1.ListFreeGpusRequest{Idle: true}, idle, true},
		{"min free memory above the card", &gpumonv1.ListFreeGpusRequest{MinFreeMemory: 90000}, idle, false},
		{"min free memory met", &gpumonv1.ListFreeGpusRequest{MinFreeMemory: 81559}, idle, true},
		{"max utilisation 0", &gpumonv1.ListFreeGpusRequest{MaxUtilization: u(0)}, gpu("H100", 81559, 0, u(1)), false},
		{"min free percent 0", &gpumonv1.ListFreeGpusRequest{MinFreePercent: u(0)}, gpu("H100", 81559, 81000, u(0)), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Criteria(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if got := Free(c, tc.g); got != tc.free {
				t.Errorf("Free = %v, want %v", got, tc.free)
			}
		})
	}
}

func TestCriteriaDefaultsAndRefusals(t *testing.T) {
	req := &gpumonv1.ListFreeGpusRequest{MinFreeMemory: 1024}
	c, err := Criteria(req)
	if err != nil || c.GetMaxUtilization() != 10 || c.GetMinFreePercent() != 90 || c.GetMinFreeMemory() != 1024 {
		t.Errorf("Criteria = %v, %v; want max 10 %%, min 90 %% free, 1024 MiB", c, err)
	}
	if req.MaxUtilization != nil {
		t.Error("Criteria changed the request")
	}
	for _, bad := range []*gpumonv1.ListFreeGpusRequest{
		{MaxUtilization: proto.Uint32(101)},
		{MinFreePercent: proto.Uint32(500)},
	} {
		if _, err := Criteria(bad); err == nil {
			t.Errorf("Criteria accepted %v", bad)
		}
	}
}

// TestRankedByHowFree: a relative measure, so an idle small card outranks a
// big one at work, and of two idle cards the larger comes first.
func TestRankedByHowFree(t *testing.T) {
	u := proto.Uint32
	gpus := map[string]*gpumonv1.Gpu{
		"B200 at 90 %":       gpu("B200", 183359, 91000, u(90), proc("bob", "compute", 91000)),
		"idle RTX 4090":      gpu("RTX 4090", 24564, 3, u(0)),
		"idle H100":          gpu("H100", 81559, 4, u(0)),
		"H100 at 8 %":        gpu("H100", 81559, 4, u(8)),
		"A100 half full":     gpu("A100", 81920, 40960, u(0), proc("carol", "compute", 40960)),
		"RTX 4090 with Xorg": gpu("RTX 4090", 24564, 700, u(0), proc("root", "graphics", 650)),
	}
	var list []*gpumonv1.FreeGpu
	for name, g := range gpus {
		list = append(list, FreeGPU(name, name, true, g))
	}
	SortFree(list)
	var got []string
	for _, g := range list {
		got = append(got, g.GetMachine())
	}
	want := []string{"idle H100", "idle RTX 4090", "RTX 4090 with Xorg", "H100 at 8 %", "A100 half full", "B200 at 90 %"}
	if !slices.Equal(got, want) {
		t.Errorf("order = %q\nwant    %q", got, want)
	}
	if s := list[len(list)-1].GetScore(); s > 0.06 {
		t.Errorf("a B200 at 90 %% with half its memory used scores %.3f", s)
	}
}
