package gpu

import (
	"encoding/binary"
	"math"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// allLinks as a field's scope sums an NVLink counter over every link.
const allLinks = math.MaxUint32

// fieldRead is one group of NVML field values that together fill one
// report field.
type fieldRead struct {
	m      metric
	fields []nvml.FieldValue
	// set fills the report field from the values, in the order of fields.
	set func(g *gpumonv1.Gpu, v []float64)
}

// fieldReads are the figures read with nvmlDeviceGetFieldValues, all in one
// call per GPU.
var fieldReads = []fieldRead{
	{mMemTemp, []nvml.FieldValue{{FieldId: nvml.FI_DEV_MEMORY_TEMP}}, func(g *gpumonv1.Gpu, v []float64) {
		// Boards without a memory sensor answer 0.
		if v[0] > 0 {
			g.MemoryTemperature = ptr(uint32(v[0]))
		}
	}},
	{mEnergy, []nvml.FieldValue{{FieldId: nvml.FI_DEV_TOTAL_ENERGY_CONSUMPTION}}, func(g *gpumonv1.Gpu, v []float64) {
		g.EnergyConsumption = ptr(v[0])
	}},
	{mPCIeReplay, []nvml.FieldValue{{FieldId: nvml.FI_DEV_PCIE_REPLAY_COUNTER}}, func(g *gpumonv1.Gpu, v []float64) {
		g.PcieReplayCounter = ptr(clampU32(uint64(v[0])))
	}},
	{mNVLink, []nvml.FieldValue{
		{FieldId: nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_TX, ScopeId: allLinks},
		{FieldId: nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_RX, ScopeId: allLinks},
	}, func(g *gpumonv1.Gpu, v []float64) {
		g.NvlinkBandwidthTotal = ptr(v[0] + v[1])
	}},
	{mRemapped, []nvml.FieldValue{
		{FieldId: nvml.FI_DEV_REMAPPED_COR}, {FieldId: nvml.FI_DEV_REMAPPED_UNC},
		{FieldId: nvml.FI_DEV_REMAPPED_PENDING}, {FieldId: nvml.FI_DEV_REMAPPED_FAILURE},
	}, func(g *gpumonv1.Gpu, v []float64) {
		g.RemappedRows = &gpumonv1.RemappedRows{Correctable: clampU32(uint64(v[0])), Uncorrectable: clampU32(uint64(v[1])),
			Pending: v[2] != 0, Failure: v[3] != 0}
	}},
}

// readFields reads memory temperature, energy, PCIe replays, NVLink traffic
// and remapped rows in one NVML call. A group is filled only when all its
// values were read.
func (r *reader) readFields() {
	var reads []fieldRead
	var values []nvml.FieldValue
	for _, f := range fieldReads {
		if r.want(f.m) {
			reads = append(reads, f)
			values = append(values, f.fields...)
		}
	}
	if len(values) == 0 {
		return
	}
	ret := r.dev.GetFieldValues(values)
	for _, f := range reads {
		got, vals := values[:len(f.fields)], make([]float64, len(f.fields))
		values = values[len(f.fields):]
		ok := r.ok(f.m, ret)
		for i := range got {
			if !ok {
				break
			}
			var valid bool
			vals[i], valid = fieldValue(got[i])
			ok = r.ok(f.m, nvml.Return(got[i].NvmlReturn)) && valid
		}
		if ok {
			f.set(r.g, vals)
		}
	}
}

// fieldValue decodes a field value by its type.
func fieldValue(fv nvml.FieldValue) (float64, bool) {
	b := fv.Value[:]
	switch nvml.ValueType(fv.ValueType) {
	case nvml.VALUE_TYPE_DOUBLE:
		return math.Float64frombits(binary.NativeEndian.Uint64(b)), true
	case nvml.VALUE_TYPE_UNSIGNED_INT:
		return float64(binary.NativeEndian.Uint32(b)), true
	case nvml.VALUE_TYPE_UNSIGNED_LONG, nvml.VALUE_TYPE_UNSIGNED_LONG_LONG:
		return float64(binary.NativeEndian.Uint64(b)), true
	case nvml.VALUE_TYPE_SIGNED_LONG_LONG:
		return float64(int64(binary.NativeEndian.Uint64(b))), true
	case nvml.VALUE_TYPE_SIGNED_INT:
		return float64(int32(binary.NativeEndian.Uint32(b))), true
	case nvml.VALUE_TYPE_UNSIGNED_SHORT:
		return float64(binary.NativeEndian.Uint16(b)), true
	}
	return 0, false
}

// readPCIe reads the PCI bus id and the PCIe throughput, which NVML measures
// over 20 ms per direction.
func (r *reader) readPCIe() {
	if r.want(mPCIInfo) {
		info, ret := r.dev.GetPciInfo()
		if r.ok(mPCIInfo, ret) {
			r.g.PciBusId = cString(info.BusId[:])
		}
	}
	if r.want(mPCIeTx) {
		v, ret := r.dev.GetPcieThroughput(nvml.PCIE_UTIL_TX_BYTES)
		r.g.PcieTxThroughput = r.u32(mPCIeTx, v, ret)
	}
	if r.want(mPCIeRx) {
		v, ret := r.dev.GetPcieThroughput(nvml.PCIE_UTIL_RX_BYTES)
		r.g.PcieRxThroughput = r.u32(mPCIeRx, v, ret)
	}
}

// cString reads a NUL-terminated C string.
func cString(b []int8) string {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c == 0 {
			break
		}
		out = append(out, byte(c))
	}
	return string(out)
}
