package stream

import (
	"google.golang.org/protobuf/proto"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// inventoryOf extracts the static facts of a report.
func inventoryOf(r *gpumonv1.Report) *gpumonv1.Inventory {
	inv := &gpumonv1.Inventory{DriverVersion: r.GetDriverVersion(), CudaVersion: r.GetCudaVersion()}
	if s := r.GetSystemInfo(); s != nil {
		inv.Os, inv.Kernel, inv.CpuModel, inv.CpuCores = s.GetOs(), s.GetKernel(), s.GetCpuModel(), s.GetCpuCores()
	}
	for _, g := range r.GetGpuData() {
		inv.Gpus = append(inv.Gpus, &gpumonv1.GpuInfo{
			Id: g.GetId(), Uuid: g.GetUuid(), Name: g.GetName(), MemoryTotal: g.GetMemoryTotal(),
			PowerLimit: g.PowerLimit, PersistenceMode: g.PersistenceMode, MigMode: g.MigMode, PciBusId: g.GetPciBusId(),
		})
	}
	return inv
}

// stripStatic clears from r the facts inv already holds; fields that differ
// from the inventory stay, so nothing is lost if a static fact changes.
func stripStatic(r *gpumonv1.Report, inv *gpumonv1.Inventory) {
	if r.DriverVersion == inv.GetDriverVersion() {
		r.DriverVersion = ""
	}
	if r.CudaVersion == inv.GetCudaVersion() {
		r.CudaVersion = ""
	}
	if s := r.GetSystemInfo(); s != nil {
		s.Os = clearIf(s.Os, inv.GetOs())
		s.Kernel = clearIf(s.Kernel, inv.GetKernel())
		s.CpuModel = clearIf(s.CpuModel, inv.GetCpuModel())
		if s.CpuCores == inv.GetCpuCores() {
			s.CpuCores = 0
		}
	}
	byID := map[int32]*gpumonv1.GpuInfo{}
	for _, g := range inv.GetGpus() {
		byID[g.GetId()] = g
	}
	for _, g := range r.GetGpuData() {
		info := byID[g.GetId()]
		if info == nil {
			continue
		}
		g.Uuid = clearIf(g.Uuid, info.GetUuid())
		g.Name = clearIf(g.Name, info.GetName())
		g.PciBusId = clearIf(g.PciBusId, info.GetPciBusId())
		if g.MemoryTotal == info.GetMemoryTotal() {
			g.MemoryTotal = 0
		}
		g.PowerLimit = clearOpt(g.PowerLimit, info.PowerLimit)
		g.PersistenceMode = clearOpt(g.PersistenceMode, info.PersistenceMode)
		g.MigMode = clearOpt(g.MigMode, info.MigMode)
	}
}

func clearIf(v, static string) string {
	if v == static {
		return ""
	}
	return v
}

func clearOpt[T comparable](v, static *T) *T {
	if v != nil && static != nil && *v == *static {
		return nil
	}
	return v
}

// sameInventory reports whether the static facts are unchanged.
func sameInventory(a, b *gpumonv1.Inventory) bool { return proto.Equal(a, b) }
