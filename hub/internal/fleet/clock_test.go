package fleet

import (
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
)

func TestSampleTimeOutOfRangeRecordedAtReceiveTime(t *testing.T) {
	tests := []struct {
		name   string
		offset time.Duration
		buffer time.Duration // announced in Hello; 0: none
		skewed bool
	}{
		{"in time", 0, 0, false},
		{"29 s ahead", 29 * time.Second, 0, false},
		{"31 s ahead", 31 * time.Second, 0, true},
		{"year 2999", time.Duration(1<<63 - 1), 0, true},
		{"9 minutes old (a replay)", -9 * time.Minute, 0, false},
		{"11 minutes old, default buffer", -11 * time.Minute, 0, true},
		{"11 minutes old, 1 h buffer", -11 * time.Minute, time.Hour, false},
		{"2 minutes old, 1 minute buffer", -2 * time.Minute, time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := newTestFleet()
			h := hello("gpu1", "id", 1)
			if tt.buffer > 0 {
				h.Buffer = durationpb.New(tt.buffer)
			}
			m, _ := f.Attach(h)
			at := c.t.Add(tt.offset)
			if tt.name == "year 2999" {
				at = time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)
			}
			f.Ingest(m, 1, report(at, 1))
			st, sum := m.State(), m.Summary()
			recorded := st.Report.GetTimestamp().AsTime()
			if tt.skewed {
				if !recorded.Equal(c.t) || !st.ClockSkewed || sum.ClockOffsetSeconds == nil || st.Report.ClockOffsetSeconds == nil {
					t.Fatalf("recorded at %v (receive time %v), skewed %v, summary offset %v", recorded, c.t, st.ClockSkewed, sum.ClockOffsetSeconds)
				}
				want := at.Sub(c.t).Round(time.Millisecond).Seconds()
				if tt.name == "year 2999" {
					want = float64(at.Unix() - c.t.Unix())
				}
				if sum.GetClockOffsetSeconds() != want {
					t.Errorf("offset %v, want %v", sum.GetClockOffsetSeconds(), want)
				}
				return
			}
			if !recorded.Equal(at) || st.ClockSkewed || sum.ClockOffsetSeconds != nil {
				t.Errorf("recorded at %v, want its own time %v; skewed %v", recorded, at, st.ClockSkewed)
			}
		})
	}
}

func TestClockBackInRangeClearsTheFlag(t *testing.T) {
	f, c := newTestFleet()
	m, _ := f.Attach(hello("gpu1", "id", 1))
	f.Ingest(m, 1, report(c.t.Add(time.Hour), 1))
	c.advance(time.Second)
	f.Ingest(m, 2, report(c.t, 1))
	if m.State().ClockSkewed || m.Summary().ClockOffsetSeconds != nil {
		t.Error("flag kept after the clock came back in range")
	}
	if !m.State().Online {
		t.Error("offline after its clock was corrected")
	}
}

func TestLegacyPostFromTheFuture(t *testing.T) {
	f, c := newTestFleet()
	m := f.IngestLegacy(report(time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC), 1))
	if got := m.State().Report.GetTimestamp().AsTime(); !got.Equal(c.t) || !m.State().ClockSkewed {
		t.Errorf("recorded at %v, want the receive time %v", got, c.t)
	}
}
