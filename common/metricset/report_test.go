package metricset

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// collected is what an Emit received: "name{labels}" → value.
type collected map[string]float64

func (c collected) emit(name string, l []Label, v float64) {
	parts := make([]string, len(l))
	for i, x := range l {
		parts[i] = x.Name + "=" + x.Value
	}
	key := name + "{" + strings.Join(parts, ",") + "}"
	if _, dup := c[key]; dup {
		panic("series emitted twice: " + key)
	}
	c[key] = v
}

func (c collected) names() []string {
	var out []string
	for k := range c {
		out = append(out, k[:strings.IndexByte(k, '{')])
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// fullGPU reports every figure a data-centre GPU can have.
func fullGPU() *gpumonv1.Gpu {
	return &gpumonv1.Gpu{
		Id: 3, Name: "NVIDIA H100 80GB HBM3", Uuid: "GPU-3", PciBusId: "00000000:5D:00.0",
		MemoryUsed: 1000, MemoryTotal: 81559, MemoryFree: proto.Uint32(80559),
		Utilization: proto.Uint32(87), MemoryUtilization: proto.Uint32(40),
		Temperature: proto.Uint32(61), MemoryTemperature: proto.Uint32(58),
		PowerDraw: proto.Float64(512.5), PowerLimit: proto.Float64(700), EnergyConsumption: proto.Float64(9.5e9),
		SmClock: proto.Uint32(1980), MemoryClock: proto.Uint32(2619), FanSpeed: proto.Uint32(0), PerformanceState: proto.Uint32(0),
		EccErrorsCorrected: proto.Uint32(2), EccErrorsUncorrected: proto.Uint32(0),
		EncoderUtilization: proto.Uint32(0), DecoderUtilization: proto.Uint32(9),
		PcieTxThroughput: proto.Uint32(1200), PcieRxThroughput: proto.Uint32(5400), PcieReplayCounter: proto.Uint32(1),
		NvlinkBandwidthTotal: proto.Float64(7.25e9),
		RemappedRows:         &gpumonv1.RemappedRows{Correctable: 1, Pending: true},
		Activity: &gpumonv1.GpuActivity{Graphics: proto.Float64(0.86), Sm: proto.Float64(0.7),
			SmOccupancy: proto.Float64(0.35), Tensor: proto.Float64(0.42), Dram: proto.Float64(0.3)},
		Processes: []*gpumonv1.Process{{Pid: 10, Username: "alice", GpuMemoryUsage: 990}},
	}
}

func TestGPUSeries(t *testing.T) {
	c := collected{}
	GPU(c.emit, fullGPU(), "550.54.15")
	labels := "{gpu=3,UUID=GPU-3,modelName=NVIDIA H100 80GB HBM3,device=nvidia3,pci_bus_id=00000000:5D:00.0,DCGM_FI_DRIVER_VERSION=550.54.15}"
	want := map[string]float64{
		GPUUtil: 87, GPUMemCopyUtil: 40, GPUFBUsed: 1000, GPUFBTotal: 81559, GPUFBFree: 80559,
		GPUTemp: 61, GPUMemTemp: 58, GPUPower: 512.5, GPUPowerLimit: 700, GPUEnergy: 9.5e9,
		GPUSMClock: 1980, GPUMemClock: 2619, GPUFan: 0, GPUPState: 0, GPUECCCorrected: 2, GPUECCUncorrect: 0,
		GPUEncUtil: 0, GPUDecUtil: 9, GPUPCIeTx: 1200, GPUPCIeRx: 5400, GPUPCIeReplay: 1, GPUNVLink: 7.25e9,
		GPURemapCorrected: 1, GPURemapUncorrected: 0, GPURemapFailure: 0, GPURemapPending: 1,
		GPUGraphicsActive: 0.86, GPUSMActive: 0.7, GPUSMOccupancy: 0.35, GPUTensorActive: 0.42, GPUDRAMActive: 0.3,
		GPUProcesses: 1,
	}
	if len(c) != len(want) {
		t.Errorf("%d series, want %d: %v", len(c), len(want), slices.Sorted(maps.Keys(c)))
	}
	for name, v := range want {
		got, ok := c[name+labels]
		if !ok || got != v {
			t.Errorf("%s%s = %v (present %v), want %v", name, labels, got, ok, v)
		}
	}
}

// TestGPUSeriesAbsent: what a card does not report has no series at all
// (never a zero), and a GPU that could not be read has none.
func TestGPUSeriesAbsent(t *testing.T) {
	always := []string{GPUFBFree, GPUFBTotal, GPUFBUsed, GPUProcesses}
	cases := []struct {
		name string
		gpu  *gpumonv1.Gpu
		want []string
	}{
		{"bare", &gpumonv1.Gpu{Id: 0, Name: "old card", MemoryTotal: 100}, always},
		{"remapping only", &gpumonv1.Gpu{Id: 0, RemappedRows: &gpumonv1.RemappedRows{}},
			append([]string{GPURemapCorrected, GPURemapFailure, GPURemapPending, GPURemapUncorrected}, always...)},
		{"activity without tensor", &gpumonv1.Gpu{Id: 0, Activity: &gpumonv1.GpuActivity{Graphics: proto.Float64(0)}},
			append([]string{GPUGraphicsActive}, always...)},
		{"errored", &gpumonv1.Gpu{Id: 0, Error: "read GPU 0: lost", Utilization: proto.Uint32(5)}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := collected{}
			GPU(c.emit, tc.gpu, "")
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if got := c.names(); !slices.Equal(got, want) {
				t.Errorf("series %v, want %v", got, want)
			}
			for k := range c {
				if strings.Contains(k, "pci_bus_id=") || strings.Contains(k, DriverVersionLabel) {
					t.Errorf("%s: an unknown bus id or driver is a label", k)
				}
			}
		})
	}
}

func TestReportSeries(t *testing.T) {
	g := fullGPU()
	r := &gpumonv1.Report{
		DriverVersion: "550.54.15",
		GpuData: []*gpumonv1.Gpu{g, {Id: 4, Processes: []*gpumonv1.Process{
			{Pid: 11, Username: "alice", GpuMemoryUsage: 10, SmUtilization: proto.Uint32(30)},
			{Pid: 12, GpuMemoryUsage: 5, SmUtilization: proto.Uint32(7)}, {Pid: 13, Username: "alice", SmUtilization: proto.Uint32(20)}}}},
		SystemInfo: &gpumonv1.SystemInfo{CpuPercent: 12.5, Load: &gpumonv1.LoadAverage{Load1: 1},
			Processes: []*gpumonv1.Process{{Pid: 10, IsGpuProcess: true, ContainerId: "0123456789ab", GpuMemoryUsage: 990}}},
	}
	c := collected{}
	Report(WithBase(c.emit, MachineLabels("gpu-a", "gpu-a")), r)
	checks := map[string]float64{
		`gpumon_user_gpus{Hostname=gpu-a,machine=gpu-a,user=alice}`:                            2,
		`gpumon_user_gpu_memory_mib{Hostname=gpu-a,machine=gpu-a,user=alice}`:                  1000,
		`gpumon_user_gpus{Hostname=gpu-a,machine=gpu-a,user=unknown}`:                          1,
		`gpumon_container_gpu_memory_mib{Hostname=gpu-a,machine=gpu-a,container=0123456789ab}`: 990,
		`gpumon_machine_cpu_percent{Hostname=gpu-a,machine=gpu-a}`:                             12.5,
		`gpumon_machine_load15{Hostname=gpu-a,machine=gpu-a}`:                                  0,
		`DCGM_FI_DEV_GPU_UTIL{Hostname=gpu-a,machine=gpu-a,gpu=3,UUID=GPU-3,modelName=NVIDIA H100 80GB HBM3,device=nvidia3,pci_bus_id=00000000:5D:00.0,DCGM_FI_DRIVER_VERSION=550.54.15}`: 87,
		`gpumon_gpu_processes{Hostname=gpu-a,machine=gpu-a,gpu=4,UUID=,modelName=,device=nvidia4,DCGM_FI_DRIVER_VERSION=550.54.15}`:                                                       3,
		`gpumon_user_gpu_sm_utilization_percent{Hostname=gpu-a,machine=gpu-a,gpu=4,UUID=,modelName=,device=nvidia4,DCGM_FI_DRIVER_VERSION=550.54.15,user=alice}`:                          50,
		`gpumon_user_gpu_sm_utilization_percent{Hostname=gpu-a,machine=gpu-a,gpu=4,UUID=,modelName=,device=nvidia4,DCGM_FI_DRIVER_VERSION=550.54.15,user=unknown}`:                        7,
	}
	for k, v := range checks {
		if got, ok := c[k]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, v)
		}
	}
}

func TestCollectorSeries(t *testing.T) {
	c := collected{}
	Collectors(c.emit, &gpumonv1.Report{Collectors: []*gpumonv1.CollectorStatus{
		{Name: "gpu", State: gpumonv1.CollectorState_COLLECTOR_STATE_OK, DurationSeconds: 0.012},
		{Name: "docker", State: gpumonv1.CollectorState_COLLECTOR_STATE_UNAVAILABLE},
		{Name: "process", State: gpumonv1.CollectorState_COLLECTOR_STATE_TIMEOUT, DurationSeconds: 1.5},
		{Name: "screen", State: gpumonv1.CollectorState_COLLECTOR_STATE_ERROR},
	}})
	want := collected{
		"gpumon_agent_collector_duration_seconds{collector=gpu}": 0.012, "gpumon_agent_collector_success{collector=gpu}": 1,
		"gpumon_agent_collector_duration_seconds{collector=docker}": 0, "gpumon_agent_collector_success{collector=docker}": 1,
		"gpumon_agent_collector_duration_seconds{collector=process}": 1.5, "gpumon_agent_collector_success{collector=process}": 0,
		"gpumon_agent_collector_duration_seconds{collector=screen}": 0, "gpumon_agent_collector_success{collector=screen}": 0,
	}
	if !maps.Equal(c, want) {
		t.Errorf("got %v\nwant %v", c, want)
	}
}

// TestEveryNameHasAFamily: /metrics declares HELP and TYPE for every series
// a report maps to, and the counters are the figures that only grow.
func TestEveryNameHasAFamily(t *testing.T) {
	c := collected{}
	r := &gpumonv1.Report{GpuData: []*gpumonv1.Gpu{fullGPU()}, SystemInfo: &gpumonv1.SystemInfo{
		Load: &gpumonv1.LoadAverage{}, Processes: []*gpumonv1.Process{{IsGpuProcess: true, ContainerId: "c"}}},
		Collectors: []*gpumonv1.CollectorStatus{{Name: "gpu"}}}
	Report(c.emit, r)
	Collectors(c.emit, r)
	for _, name := range c.names() {
		if _, ok := Lookup(name); !ok {
			t.Errorf("%s has no family", name)
		}
	}
	counters := []string{GPUECCCorrected, GPUECCUncorrect, GPUEnergy, GPUPCIeReplay, GPUNVLink, GPURemapCorrected,
		GPURemapUncorrected, MachineGPUSecs, MachineGPUMemSecs, UserGPUSecs, UserGPUMemSecs, GPUXIDTotal}
	for _, f := range Families() {
		if want := slices.Contains(counters, f.Name); (f.Type == Counter) != want {
			t.Errorf("%s is a %s", f.Name, f.Type)
		}
		if f.Help == "" || !strings.HasSuffix(f.Help, ".") {
			t.Errorf("%s: help %q", f.Name, f.Help)
		}
	}
	if _, ok := Lookup("DCGM_FI_DEV_NO_SUCH"); ok {
		t.Error("Lookup found an unknown name")
	}
	names := make([]string, 0, len(families))
	for _, f := range Families() {
		names = append(names, f.Name)
	}
	if !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Errorf("families are not sorted and unique: %v", names)
	}
}

// TestXIDSeries: a GPU the agent watches for Xid errors has dcgm-exporter's
// DCGM_FI_DEV_XID_ERRORS (the last Xid, 0 before any) and the counter; one
// it does not watch has neither.
func TestXIDSeries(t *testing.T) {
	for _, tc := range []struct {
		g         *gpumonv1.Gpu
		last, n   float64
		hasSeries bool
	}{
		{&gpumonv1.Gpu{Id: 0, Uuid: "GPU-0"}, 0, 0, false},
		{&gpumonv1.Gpu{Id: 1, Uuid: "GPU-1", XidErrors: proto.Uint32(0)}, 0, 0, true},
		{&gpumonv1.Gpu{Id: 2, Uuid: "GPU-2", XidErrors: proto.Uint32(3), LastXid: proto.Uint32(79)}, 79, 3, true},
	} {
		got := map[string]float64{}
		GPU(func(name string, _ []Label, v float64) { got[name] = v }, tc.g, "")
		last, hasLast := got[GPUXIDLast]
		n, hasN := got[GPUXIDTotal]
		if hasLast != tc.hasSeries || hasN != tc.hasSeries || last != tc.last || n != tc.n {
			t.Errorf("GPU %d: last %v (%v), count %v (%v); want %v, %v, series %v", tc.g.GetId(), last, hasLast, n, hasN, tc.last, tc.n, tc.hasSeries)
		}
	}
}
