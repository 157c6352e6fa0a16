package gpustats

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gpumon/gpumon/common/wirejson"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
	"github.com/gpumon/gpumon/hub/internal/service"
)

// changingFleet is 100 machines of 300 processes; next posts a new report
// for one of them, as a live fleet does between two reads.
func changingFleet(b *testing.B) (*fleet.Fleet, func()) {
	f := fleet.New(nil)
	for i := range 100 {
		f.IngestLegacy(report(fmt.Sprintf("node-%03d", i), 300, 1))
	}
	n := 0
	return f, func() {
		n++
		f.IngestLegacy(report(fmt.Sprintf("node-%03d", n%100), 300, float64(n)))
	}
}

// BenchmarkChangingFleetWhole: what a read cost before, without even the
// gRPC hop: the whole fleet rendered and gzipped for every version.
func BenchmarkChangingFleetWhole(b *testing.B) {
	f, next := changingFleet(b)
	svc := &service.Fleet{Fleet: f}
	b.ReportAllocs()
	for b.Loop() {
		next()
		resp, _ := svc.GetGpuStats(context.Background(), &gpumonv1.GetGpuStatsRequest{})
		plain := wirejson.AppendDocumented(nil, resp)
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		_, _ = zw.Write(plain)
		_ = zw.Close()
	}
}

// BenchmarkChangingFleetStitched: a gzip read of a fleet of which one
// machine changed since the last read.
func BenchmarkChangingFleetStitched(b *testing.B) {
	f, next := changingFleet(b)
	h := &Handler{Fleet: f, Service: allow{}}
	req := httptest.NewRequest(http.MethodGet, "/api/gpu-stats", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	b.ReportAllocs()
	for b.Loop() {
		next()
		h.ServeHTTP(discard{}, req)
	}
}

type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) WriteHeader(int)             {}
