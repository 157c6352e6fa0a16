package service

import (
	"context"
	"testing"
	"time"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// TestListGpusAgreesWithTheSummaries: the overview's rows and the header's
// counts come from one definition, so they count the same busy and free GPUs,
// and no GPU is both.
func TestListGpusAgreesWithTheSummaries(t *testing.T) {
	s, f, m := newFleetService()
	f.Ingest(m, 1, busyReport(time.Now(), 3))
	gpus, err := s.ListGpus(context.Background(), &gpumonv1.ListGpusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.ListMachines(context.Background(), &gpumonv1.ListMachinesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var busy, free uint32
	for i, g := range gpus.GetGpus() {
		if g.GetMachine() != "h" || g.GetIndex() != int32(i) || !g.GetOnline() {
			t.Errorf("row %d: %v", i, g)
		}
		if g.GetBusy() && g.GetFree() {
			t.Errorf("GPU %d is both busy and free", i)
		}
		if g.GetBusy() {
			busy++
		}
		if g.GetFree() {
			free++
		}
	}
	tot := list.GetTotals()
	if len(gpus.GetGpus()) != 8 || busy != 3 || free != 5 || tot.GetGpusBusy() != busy || tot.GetGpusFree() != free {
		t.Errorf("%d rows, %d busy, %d free; totals %d busy, %d free; want 8 rows, 3 busy, 5 free in both",
			len(gpus.GetGpus()), busy, free, tot.GetGpusBusy(), tot.GetGpusFree())
	}
}

func TestProcessesInWords(t *testing.T) {
	for n, want := range map[int]string{0: "0 processes", 1: "1 process", 2: "2 processes"} {
		if got := processes(n); got != want {
			t.Errorf("processes(%d) = %q, want %q", n, got, want)
		}
	}
}
