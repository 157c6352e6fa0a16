package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
	"github.com/gpumon/gpumon/hub/internal/service"
)

// TestFleetMetrics: /metrics writes dcgm-exporter's names, labels and types
// for an online machine, with the static facts its agent sent once, and
// only the online state of an offline one.
func TestFleetMetrics(t *testing.T) {
	f := fleet.New(nil)
	inv := &gpumonv1.Inventory{DriverVersion: "550.54.15", Gpus: []*gpumonv1.GpuInfo{
		{Id: 0, Uuid: "GPU-a", Name: "NVIDIA H100 80GB HBM3", MemoryTotal: 81559, PciBusId: "00000000:18:00.0"}}}
	m, _ := f.Attach(fleet.Hello{Hello: &gpumonv1.Hello{Hostname: "gpu-a", MachineId: "a", Epoch: 1, Inventory: inv},
		Interval: time.Second, Conn: fleet.NewAgentConn(false)})
	f.Ingest(m, 1, &gpumonv1.Report{Hostname: "gpu-a", Timestamp: timestamppb.Now(), GpuData: []*gpumonv1.Gpu{{
		Id: 0, MemoryUsed: 100, Utilization: proto.Uint32(87), EccErrorsCorrected: proto.Uint32(2),
		EnergyConsumption: proto.Float64(9.5e9)}}})
	conn := fleet.NewAgentConn(false)
	old, _ := f.Attach(fleet.Hello{Hello: &gpumonv1.Hello{Hostname: "gpu-b", MachineId: "b", Epoch: 1}, Conn: conn})
	f.Ingest(old, 1, &gpumonv1.Report{Hostname: "gpu-b", Timestamp: timestamppb.Now(), GpuData: []*gpumonv1.Gpu{{Id: 0, Utilization: proto.Uint32(5)}}})
	f.Detach(old, conn)

	reg := New(Sources{Fleet: f, Stats: &service.Stats{}})
	srv := httptest.NewServer(reg)
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(body)
	gpu := `{DCGM_FI_DRIVER_VERSION="550.54.15",Hostname="gpu-a",UUID="GPU-a",device="nvidia0",gpu="0",machine="gpu-a",modelName="NVIDIA H100 80GB HBM3",pci_bus_id="00000000:18:00.0"}`
	for _, want := range []string{
		"# TYPE DCGM_FI_DEV_ECC_SBE_VOL_TOTAL counter\n",
		"DCGM_FI_DEV_ECC_SBE_VOL_TOTAL" + gpu + " 2\n",
		"# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter\n",
		"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION" + gpu + " 9.5e+09\n",
		"# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n",
		"DCGM_FI_DEV_GPU_UTIL" + gpu + " 87\n",
		`gpumon_machine_online{Hostname="gpu-b",machine="gpu-b"} 0` + "\n",
		"# TYPE gpumon_hub_snapshots_total counter\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(text, `DCGM_FI_DEV_GPU_UTIL{Hostname="gpu-b"`) || strings.Contains(text, "DCGM_FI_DEV_MEMORY_TEMP") {
		t.Errorf("/metrics has figures of an offline machine or a figure no GPU reported:\n%s", text)
	}
}
