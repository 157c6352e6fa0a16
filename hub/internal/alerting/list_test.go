package alerting

import (
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

func TestSortAlerts(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	at := func(m int) *timestamppb.Timestamp { return timestamppb.New(t0.Add(time.Duration(m) * time.Minute)) }
	as := []*gpumonv1.Alert{
		{Name: "old-warning", State: "firing", Severity: "warning", ActiveAt: at(0)},
		{Name: "pending-critical", State: "pending", Severity: "critical", ActiveAt: at(9)},
		{Name: "old-critical", State: "firing", Severity: "critical", ActiveAt: at(1)},
		{Name: "info", State: "firing", Severity: "info", ActiveAt: at(8)},
		{Name: "new-critical", State: "firing", Severity: "critical", ActiveAt: at(5)},
		{Name: "new-warning", State: "firing", Severity: "warning", ActiveAt: at(6)},
	}
	SortAlerts(as)
	want := []string{"new-critical", "old-critical", "new-warning", "old-warning", "info", "pending-critical"}
	for i, a := range as {
		if a.GetName() != want[i] {
			got := make([]string, len(as))
			for j, a := range as {
				got[j] = a.GetName()
			}
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}
