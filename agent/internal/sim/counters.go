package sim

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"
)

// counter accumulates a rate over time, as the driver's energy and NVLink
// counters do. It is the only simulated state: a pure function of time
// cannot integrate noise cheaply.
type counter struct {
	mu    sync.Mutex
	last  time.Time
	total float64
}

// at advances the counter to t at rate (per second) and returns its value.
// A clock that goes back leaves the counter where it is.
func (c *counter) at(t time.Time, rate float64) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.last) && !c.last.IsZero() {
		c.total += rate * t.Sub(c.last).Seconds()
	}
	if t.After(c.last) {
		c.last = t
	}
	return c.total
}

// wireCounters sets the PCI identity, PCIe throughput and the NVML field
// values the gpu collector reads.
func wireCounters(d *server.Device, m *model, g int, now func() time.Time) {
	bus := m.busID(g)
	d.PciBusID = bus
	d.GetPciInfoFunc = func() (nvml.PciInfo, nvml.Return) {
		p := nvml.PciInfo{PciDeviceId: d.Config.PciDeviceId, Bus: uint32(m.bus(g))}
		for i, c := range bus {
			p.BusId[i] = int8(c)
		}
		return p, nvml.SUCCESS
	}
	d.GetPcieThroughputFunc = func(c nvml.PcieUtilCounter) (uint32, nvml.Return) {
		tx, rx := m.pcie(g, now())
		if c == nvml.PCIE_UTIL_TX_BYTES {
			return tx, nvml.SUCCESS
		}
		return rx, nvml.SUCCESS
	}
	energy := &counter{total: m.energyAtStart(g)}
	nvlink := &counter{}
	d.GetFieldValuesFunc = func(values []nvml.FieldValue) nvml.Return {
		t := now()
		for i := range values {
			fv := &values[i]
			switch v, ok := m.field(fv, g, t, energy, nvlink); {
			case !ok:
				fv.NvmlReturn = uint32(nvml.ERROR_NOT_SUPPORTED)
			default:
				fv.NvmlReturn, fv.ValueType = uint32(nvml.SUCCESS), uint32(nvml.VALUE_TYPE_UNSIGNED_LONG_LONG)
				binary.NativeEndian.PutUint64(fv.Value[:], uint64(v))
			}
		}
		return nvml.SUCCESS
	}
}

// field answers one NVML field; false where the card has no such figure.
func (m *model) field(fv *nvml.FieldValue, g int, t time.Time, energy, nvlink *counter) (float64, bool) {
	dc := !m.spec.consumer // HBM, NVLink and row remapping are data-centre features
	switch fv.FieldId {
	case nvml.FI_DEV_MEMORY_TEMP:
		return math.Round(m.temperature(g, t) + 4 + 0.06*m.loadAvg(g, t)), dc
	case nvml.FI_DEV_TOTAL_ENERGY_CONSUMPTION:
		return energy.at(t, m.power(g, t)*1000), true // mJ
	case nvml.FI_DEV_PCIE_REPLAY_COUNTER:
		return float64(m.replays(g, t)), true
	case nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_TX, nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_RX:
		if !dc || fv.ScopeId != math.MaxUint32 {
			return 0, false
		}
		return nvlink.at(t, m.nvlinkRate(g, t)) / 2, true // KiB each way
	case nvml.FI_DEV_REMAPPED_COR:
		return float64(min(m.eccCorrected(g, t), 1)), dc
	case nvml.FI_DEV_REMAPPED_UNC, nvml.FI_DEV_REMAPPED_PENDING, nvml.FI_DEV_REMAPPED_FAILURE:
		return 0, dc
	}
	return 0, false
}

// bus is GPU g's PCI bus number.
func (m *model) bus(g int) uint8 {
	if g < len(m.spec.busIDs) {
		return m.spec.busIDs[g]
	}
	return uint8(g + 1)
}

// busID is GPU g's PCI bus id as NVML writes it.
func (m *model) busID(g int) string { return fmt.Sprintf("%08X:%02X:00.0", 0, m.bus(g)) }

// energyAtStart is the energy (mJ) the card used before the simulation
// began: the driver was loaded one to twenty days earlier.
func (m *model) energyAtStart(g int) float64 {
	days := 1 + 19*unit(h(m.seed, uint64(g), saltEnergy))
	return days * 86400 * (m.spec.idleWatts + 0.3*(m.spec.limitWatts-m.spec.idleWatts)) * 1000
}

// pcie is the PCIe throughput in KB/s each way: training jobs read their
// data from the host, inference servers less, idle cards almost nothing.
func (m *model) pcie(g int, t time.Time) (tx, rx uint32) {
	j := m.job(g, t)
	wobble := 1 + 0.5*m.noise(g, saltPCIe, seconds(t)/3)
	var in, out float64
	switch {
	case steady(j.Kind) && m.utilOf(g, j, t) > 0:
		in, out = 2.2e6, 0.35e6
	case j.Kind == KindServe && m.utilOf(g, j, t) > 0:
		in, out = 0.4e6, 0.12e6
	default:
		in, out = 90, 40
	}
	return uint32(out * wobble), uint32(in * wobble)
}

// nvlinkRate is NVLink traffic in KiB/s: gradients between the cards of a
// job that runs on several.
func (m *model) nvlinkRate(g int, t time.Time) float64 {
	j := m.job(g, t)
	if j.Kind != KindFinetune || m.utilOf(g, j, t) == 0 {
		return 0
	}
	return 9e7 * (1 + 0.3*m.noise(g, saltPCIe+1, seconds(t)/5))
}

// replays counts PCIe replays: the machine's ECC card also has a marginal
// link that replays every 47 minutes.
func (m *model) replays(g int, t time.Time) uint64 {
	if m.n == 0 || g != int(h(m.seed, saltECC)%uint64(m.n)) || t.Before(m.start) {
		return 0
	}
	return uint64(t.Sub(m.start) / (47 * time.Minute))
}
