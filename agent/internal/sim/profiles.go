package sim

import (
	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxb200"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxh100"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxh200"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/gpus"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"
)

// spec holds the physical figures of one GPU model.
type spec struct {
	idleWatts, limitWatts float64
	// SM clock idle and boost, memory clock idle and busy, MHz.
	smIdle, smMax, memIdle, memMax uint32
	// Temperature at idle and the rise at full load, °C.
	tempIdle, tempRise float64
	pcieGen, pcieWidth int
	// pcieIdleGen is the link generation an idle card drops to.
	pcieIdleGen int
	// Consumer cards: fans, no ECC, no MIG, graphics processes, P8 at
	// idle and P2 under compute, persistence mode off.
	consumer bool
	// reservedMiB is memory the driver holds on an idle card.
	reservedMiB uint64
	// migGPU is the index of a GPU in MIG mode, or -1 for none.
	migGPU int
	// gpm: the card has NVML's GPU performance monitoring (Hopper and
	// newer).
	gpm bool
	// busIDs are the GPUs' PCI bus numbers, as on the real machine.
	busIDs []uint8
}

// dgxBuses are the PCI buses of the eight GPUs of a DGX H100/H200/B200.
var dgxBuses = []uint8{0x18, 0x2a, 0x3a, 0x5d, 0x9a, 0xab, 0xba, 0xdb}

// profile is one simulated machine.
type profile struct {
	description string
	spec        spec
	build       func() *server.Server
}

var hopper = spec{
	idleWatts: 72, limitWatts: 700,
	smIdle: 345, smMax: 1980, memIdle: 2619, memMax: 2619,
	tempIdle: 31, tempRise: 42,
	pcieGen: 5, pcieWidth: 16, pcieIdleGen: 5,
	reservedMiB: 1, migGPU: -1,
	gpm: true, busIDs: dgxBuses,
}

// rtx4090 describes the GeForce RTX 4090; go-nvml ships no consumer card,
// so it is built from the mock's generic GPU configuration.
var rtx4090 = gpus.Config{
	Name:         "NVIDIA GeForce RTX 4090",
	Architecture: nvml.DEVICE_ARCH_ADA,
	Brand:        nvml.BRAND_GEFORCE,
	MemoryMB:     24564,
	CudaMajor:    8,
	CudaMinor:    9,
	PciDeviceId:  0x268410DE,
}

// profiles is the read-only table of machines New can build.
var profiles = map[string]profile{
	"dgxh100": {
		description: "DGX H100: 8 x NVIDIA H100 80GB HBM3",
		spec:        hopper,
		build:       dgxh100.New,
	},
	"dgxh200": {
		description: "DGX H200: 8 x NVIDIA H200 141GB HBM3e",
		spec: func() spec {
			s := hopper
			s.memIdle, s.memMax = 3201, 3201
			return s
		}(),
		build: dgxh200.New,
	},
	"dgxb200": {
		description: "DGX B200: 8 x NVIDIA B200 180GB HBM3e",
		spec: spec{
			idleWatts: 140, limitWatts: 1000,
			smIdle: 120, smMax: 1965, memIdle: 3996, memMax: 3996,
			tempIdle: 30, tempRise: 45,
			pcieGen: 5, pcieWidth: 16, pcieIdleGen: 5,
			reservedMiB: 1, migGPU: -1,
			gpm: true, busIDs: dgxBuses,
		},
		build: dgxb200.New,
	},
	"dgxa100": {
		description: "DGX A100: 8 x NVIDIA A100-SXM4-80GB, GPU 7 in MIG mode",
		spec: spec{
			idleWatts: 58, limitWatts: 400,
			smIdle: 210, smMax: 1410, memIdle: 1593, memMax: 1593,
			tempIdle: 30, tempRise: 40,
			pcieGen: 4, pcieWidth: 16, pcieIdleGen: 4,
			reservedMiB: 1, migGPU: 7,
			busIDs: []uint8{0x07, 0x0f, 0x47, 0x4e, 0x87, 0x90, 0xb7, 0xbd},
		},
		build: func() *server.Server {
			return server.NewServerWithGPUs("550.54.15", "12.550.54.15", 12040,
				gpus.Multiple(8, gpus.A100_SXM4_80GB)...)
		},
	},
	"rtx4090x4": {
		description: "workstation: 4 x NVIDIA GeForce RTX 4090",
		spec:        ada,
		build:       workstation(4),
	},
	"rtx4090x2": {
		description: "workstation: 2 x NVIDIA GeForce RTX 4090",
		spec:        ada,
		build:       workstation(2),
	},
}

// ada is the RTX 4090 in a workstation.
var ada = spec{
	idleWatts: 21, limitWatts: 450,
	smIdle: 210, smMax: 2520, memIdle: 405, memMax: 10501,
	tempIdle: 36, tempRise: 38,
	pcieGen: 4, pcieWidth: 16, pcieIdleGen: 1,
	consumer:    true,
	reservedMiB: 280, migGPU: -1,
	busIDs: []uint8{0x01, 0x21, 0x41, 0x61},
}

// workstation builds a machine with n RTX 4090 cards.
func workstation(n int) func() *server.Server {
	return func() *server.Server {
		return server.NewServerWithGPUs("550.127.05", "12.550.127.05", 12040,
			gpus.Multiple(n, rtx4090)...)
	}
}
