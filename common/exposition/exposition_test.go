package exposition

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gpumon/gpumon/common/metricset"
)

func TestCollectorTypesAndHelp(t *testing.T) {
	gpu := []metricset.Label{{Name: "gpu", Value: "0"}, {Name: "pci_bus_id", Value: ""}}
	c := NewCollector(func(emit metricset.Emit) {
		emit(metricset.GPUECCCorrected, gpu, 2)
		emit(metricset.GPUTemp, gpu, 61)
		emit(metricset.GPUPCIeTx, gpu, 1200)
		emit("gpumon_something_new_total", nil, 1)
		emit("gpumon_something_new", nil, 1)
		emit(metricset.GPUTemp, []metricset.Label{{Name: "gpu", Value: "\xff"}}, 1) // not UTF-8: skipped
	})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	want := `# HELP DCGM_FI_DEV_ECC_SBE_VOL_TOTAL Total number of single-bit (corrected) volatile ECC errors.
# TYPE DCGM_FI_DEV_ECC_SBE_VOL_TOTAL counter
DCGM_FI_DEV_ECC_SBE_VOL_TOTAL{gpu="0"} 2
# HELP DCGM_FI_DEV_GPU_TEMP GPU temperature (in C).
# TYPE DCGM_FI_DEV_GPU_TEMP gauge
DCGM_FI_DEV_GPU_TEMP{gpu="0"} 61
# HELP DCGM_FI_DEV_PCIE_TX_THROUGHPUT PCIe TX throughput, measured by NVML over 20 ms (in KB/s).
# TYPE DCGM_FI_DEV_PCIE_TX_THROUGHPUT gauge
DCGM_FI_DEV_PCIE_TX_THROUGHPUT{gpu="0"} 1200
# HELP gpumon_something_new gpumon: something new.
# TYPE gpumon_something_new gauge
gpumon_something_new 1
# HELP gpumon_something_new_total gpumon: something new total.
# TYPE gpumon_something_new_total counter
gpumon_something_new_total 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
