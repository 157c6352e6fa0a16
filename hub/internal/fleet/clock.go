package fleet

import (
	"math"
	"time"

	"google.golang.org/protobuf/proto"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// Time rules (SPEC §4.8). Online, offline and last_seen follow the hub's
// receive time only. A sample keeps its own time for history when that lies
// within [receive time − the agent's buffer − MaxClockAhead, receive time +
// MaxClockAhead]; otherwise it is recorded at the receive time and the
// machine carries its clock offset. (The slack below the buffer covers the
// time a replay takes to arrive.)
const (
	MaxClockAhead = 30 * time.Second
	// DefaultBuffer is assumed for agents that do not announce theirs;
	// MaxBuffer bounds what one may announce (the agent's --buffer limit).
	DefaultBuffer = 10 * time.Minute
	MaxBuffer     = 24 * time.Hour
	// clockLogEvery rate-limits the warning about one machine's clock.
	clockLogEvery = time.Minute
)

// stamp sets r's timestamp to the time to record it at, and returns the
// sample's own time minus recv, seconds (not a Duration: a year-2999 stamp
// is further off than a Duration reaches), and whether it was out of range.
func stamp(r *gpumonv1.Report, recv time.Time, buffer time.Duration) (float64, bool) {
	r.ClockOffsetSeconds = nil
	if r.Timestamp == nil {
		r.Timestamp = timestampNow(recv)
		return 0, false
	}
	ts := r.GetTimestamp()
	offset := float64(ts.GetSeconds()-recv.Unix()) + float64(int64(ts.GetNanos())-int64(recv.Nanosecond()))/1e9
	if offset <= MaxClockAhead.Seconds() && offset >= -(buffer+MaxClockAhead).Seconds() {
		return offset, false
	}
	offset = math.Round(offset*1000) / 1000
	r.Timestamp = timestampNow(recv)
	r.ClockOffsetSeconds = proto.Float64(offset)
	return offset, true
}

// noteClock records a current sample's clock verdict in next and warns, at
// most once a minute per machine, when it changed. Caller holds m.mu.
func (f *Fleet) noteClock(m *Machine, next *State, offset float64, skewed bool) {
	changed := skewed != next.ClockSkewed || (skewed && math.Abs(offset-next.ClockOffset) > MaxClockAhead.Seconds())
	next.ClockSkewed, next.ClockOffset = skewed, 0
	if skewed {
		next.ClockOffset = offset
	}
	now := f.now()
	if !changed || now.Sub(m.clockLogged) < clockLogEvery {
		return
	}
	m.clockLogged = now
	if skewed {
		f.log.Warn("machine clock out of range; its samples are recorded at the hub's receive time",
			"key", m.Key, "offset_seconds", offset, "ahead_max", MaxClockAhead, "buffer", next.Buffer)
	} else {
		f.log.Info("machine clock back in range", "key", m.Key)
	}
}
