package app

import (
	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/gpumon/gpumon/agent/internal/collect"
	"github.com/gpumon/gpumon/agent/internal/collect/gpu"
	"github.com/gpumon/gpumon/agent/internal/collect/process"
	"github.com/gpumon/gpumon/agent/internal/sim"
)

// collectors builds the collectors and returns a runner for them and a
// function that releases them.
func (c *Config) collectors() (*collect.Runner, func(), error) {
	var lib nvml.Interface
	if c.Simulate != "" {
		m, err := sim.New(c.Simulate)
		if err != nil {
			return nil, nil, err
		}
		lib = m
	} else {
		lib = nvml.New()
	}
	g := gpu.New(lib, c.Log)
	p := process.New(c.Log)
	closeAll := func() { _ = g.Close() }
	return collect.NewRunner(c.Log, 0, g, p), closeAll, nil
}
