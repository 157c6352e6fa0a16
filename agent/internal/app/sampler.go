package app

import (
	"context"

	"github.com/gpumon/gpumon/agent/internal/collect"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// sampler takes full samples with the collectors.
type sampler struct {
	runner    *collect.Runner
	hostname  string
	machineID string
	version   string
	simulated bool
}

func (s *sampler) Sample(ctx context.Context) *gpumonv1.Report {
	r := s.runner.Collect(ctx)
	r.Hostname, r.MachineId, r.AgentVersion = s.hostname, s.machineID, s.version
	r.Simulated = r.Simulated || s.simulated
	return r
}
