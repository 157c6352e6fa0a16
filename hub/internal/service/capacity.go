package service

import (
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/gpumon/gpumon/common/apimeta"
	"github.com/gpumon/gpumon/common/proclimit"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// Default capacity: what one hub stores at most. At the defaults, a fleet of
// 1,000 machines all reporting at the byte limit needs about 6.5 GiB (the
// README's sizing paragraph, measured by TestFleetAtItsCaps).
const (
	DefaultMaxMachines        = 1000
	DefaultMaxReportProcesses = 5000
	DefaultMaxReportBytes     = 512 << 10
)

// Capacity bounds what the hub stores (--max-machines,
// --max-report-processes, --max-report-bytes). Zero fields take the defaults.
type Capacity struct {
	MaxMachines  int
	MaxProcesses int
	// MaxBytes bounds a machine's report as stored and served: its protobuf
	// size with the static facts of its agent's inventory filled in.
	MaxBytes int
}

// WithDefaults fills zero fields.
func (c Capacity) WithDefaults() Capacity {
	if c.MaxMachines <= 0 {
		c.MaxMachines = DefaultMaxMachines
	}
	if c.MaxProcesses <= 0 {
		c.MaxProcesses = DefaultMaxReportProcesses
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxReportBytes
	}
	return c
}

// ServedBytes bounds GET /api/gpu-stats's answer at full capacity: every
// machine's report at the byte limit, plus its map entry (hostname key, the
// is_online flag, framing).
func (c Capacity) ServedBytes() int64 {
	c = c.WithDefaults()
	const perMachine = 512 // > 253-byte key + is_online + tags and lengths
	return int64(c.MaxMachines)*int64(c.MaxBytes+perMachine) + 64<<10
}

// check refuses a report over the process or byte limit.
func (c Capacity) check(r *gpumonv1.Report) error {
	c = c.WithDefaults()
	if n := len(r.GetSystemInfo().GetProcesses()); n > c.MaxProcesses {
		return capacityError("report of %s lists %d processes, over the limit of %d (--max-report-processes)", r.GetHostname(), n, c.MaxProcesses)
	}
	if n := proto.Size(r); n > c.MaxBytes {
		return capacityError("report of %s is %d bytes, over the limit of %d (--max-report-bytes)", r.GetHostname(), n, c.MaxBytes)
	}
	return nil
}

// fit cuts the process list of a report from an agent's stream to the
// process and byte limits instead of refusing it: the agent would replay a
// refused snapshot, so a refusal would stop every later one of the machine.
// It returns how many processes it dropped, and refuses only a report over
// the byte limit without any process.
func (c Capacity) fit(r *gpumonv1.Report) (int, error) {
	c = c.WithDefaults()
	total := len(r.GetSystemInfo().GetProcesses())
	dropped, ok := proclimit.Limit(r, c.MaxProcesses, c.MaxBytes)
	if !ok {
		return 0, capacityError("report of %s is %d bytes without %d of its %d processes, over the limit of %d (--max-report-bytes)",
			r.GetHostname(), proto.Size(r), dropped, total, c.MaxBytes)
	}
	return dropped, nil
}

// full refuses a new machine.
func (c Capacity) full(hostname string) error {
	return capacityError("the hub holds its maximum of %d machines (--max-machines): %s is not added; forget offline machines or raise the limit",
		c.WithDefaults().MaxMachines, hostname)
}

// capacityError is ResourceExhausted, marked as the hub refusing to store
// more (the REST gateway answers 507, not 429).
func capacityError(format string, args ...any) error {
	st := status.New(codes.ResourceExhausted, fmt.Sprintf(format, args...))
	if withInfo, err := st.WithDetails(&errdetails.ErrorInfo{Reason: apimeta.CapacityReason, Domain: apimeta.Domain}); err == nil {
		st = withInfo
	}
	return st.Err()
}
