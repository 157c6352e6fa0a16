package fleet

import (
	"time"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/gpustate"
)

// SetIdleAfter sets how long a GPU must be idle while held to be idle-held
// (default gpustate.DefaultIdleAfter). Call it before the fleet is used.
func (f *Fleet) SetIdleAfter(d time.Duration) {
	if d > 0 {
		f.idleAfter = d
	}
}

// markIdle sets the idle fields of the GPUs of r, a machine's new current
// report received at now, carrying on from cur, the machine's state so far.
// A previous report counts only when it arrived within the offline limit:
// after a gap, idle time counts from now.
func (f *Fleet) markIdle(cur *State, r *gpumonv1.Report, now time.Time) {
	var prev *gpumonv1.Report
	if cur != nil && !cur.LastSeen.IsZero() && now.Sub(cur.LastSeen) <= offlineAfter(cur.Interval) {
		prev = cur.Report
	}
	gpustate.MarkIdle(r, prev, now, f.idleAfter)
}
