package history

import (
	"context"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// TestAlertSeries: the series the default rules read. A GPU watched for
// Xid errors has DCGM_FI_DEV_XID_ERRORS (the last Xid, 0 before any) and
// the counter; one not watched has neither. gpumon_gpu_free is 1 exactly
// for GPUs free by the hub's default definition.
func TestAlertSeries(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	m := testMachine(t, fleet.New(nil), "n1")
	r := gpuReport(t0, 50) // GPU 0 busy (alice), GPU 1 held by bob
	r.GpuData[0].XidErrors, r.GpuData[0].LastXid, r.GpuData[0].LastXidTime = proto.Uint32(3), proto.Uint32(79), timestamppb.New(t0)
	r.GpuData[1].XidErrors = proto.Uint32(0)
	free := proto.Clone(r.GpuData[1]).(*gpumonv1.Gpu)
	free.Id, free.Uuid, free.MemoryUsed, free.Processes, free.XidErrors = 2, "GPU-2", 0, nil, nil
	r.GpuData = append(r.GpuData, free)
	s.Record(m, r, 1)

	query := func(q string) map[string]float64 {
		t.Helper()
		qr, err := s.Engine().NewInstantQuery(context.Background(), s.Queryable(), nil, q, t0)
		if err != nil {
			t.Fatal(err)
		}
		res := qr.Exec(context.Background())
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		vec, _ := res.Vector()
		out := map[string]float64{}
		for _, smp := range vec {
			out[smp.Metric.Get("gpu")] = smp.F
		}
		return out
	}
	for q, want := range map[string]map[string]float64{
		GPUXIDLast:  {"0": 79, "1": 0},
		GPUXIDTotal: {"0": 3, "1": 0},
		GPUFree:     {"0": 0, "1": 0, "2": 1},
	} {
		got := query(q)
		if len(got) != len(want) {
			t.Errorf("%s: %v, want %v", q, got, want)
			continue
		}
		for g, v := range want {
			if got[g] != v {
				t.Errorf("%s of GPU %s = %v, want %v", q, g, got[g], v)
			}
		}
	}
}
