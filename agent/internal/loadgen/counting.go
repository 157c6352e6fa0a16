package loadgen

import (
	"context"
	"sync/atomic"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

type countingSampler struct {
	*Sampler
	n atomic.Uint64
}

func (c *countingSampler) Sample(ctx context.Context) *gpumonv1.Report {
	c.n.Add(1)
	return c.Sampler.Sample(ctx)
}
