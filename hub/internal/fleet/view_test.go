package fleet

import (
	"testing"

	"google.golang.org/protobuf/proto"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// TestFillStatic: the facts an agent sends once per stream come back into
// every report, and a value the snapshot carries itself wins.
func TestFillStatic(t *testing.T) {
	inv := &gpumonv1.Inventory{DriverVersion: "550.54.15", Gpus: []*gpumonv1.GpuInfo{
		{Id: 0, Uuid: "GPU-a", Name: "NVIDIA H100", MemoryTotal: 81559, PowerLimit: proto.Float64(700), PciBusId: "00000000:18:00.0"},
		{Id: 1, Uuid: "GPU-b", Name: "NVIDIA H100", MemoryTotal: 81559, PciBusId: "00000000:2A:00.0"},
	}}
	r := &gpumonv1.Report{GpuData: []*gpumonv1.Gpu{{Id: 0, MemoryUsed: 10}, {Id: 1, PciBusId: "00000000:2B:00.0"}, {Id: 2}}}
	FillStatic(r, inv)
	cases := []struct {
		name      string
		got, want any
	}{
		{"driver", r.GetDriverVersion(), "550.54.15"},
		{"gpu 0 identity", [3]string{r.GpuData[0].GetUuid(), r.GpuData[0].GetName(), r.GpuData[0].GetPciBusId()}, [3]string{"GPU-a", "NVIDIA H100", "00000000:18:00.0"}},
		{"gpu 0 limit and memory", [2]float64{r.GpuData[0].GetPowerLimit(), float64(r.GpuData[0].GetMemoryTotal())}, [2]float64{700, 81559}},
		{"gpu 1 own bus id wins", r.GpuData[1].GetPciBusId(), "00000000:2B:00.0"},
		{"gpu 2 not in the inventory", r.GpuData[2].GetPciBusId() + r.GpuData[2].GetUuid(), ""},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}
