package gpustats

import (
	"bytes"
	stdflate "compress/flate"
	"compress/gzip"
	"context"
	"fmt"
	"math/rand/v2"
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

// BenchmarkDeflatePart: one machine's part (300 processes) deflated for a
// stitched gzip body, by compress/flate and by klauspost/compress's flate
// (the one used), both at their fastest level with a writer kept between
// parts.
func BenchmarkDeflatePart(b *testing.B) {
	plain := wirejson.AppendDocumented(nil, variedReport(300))
	b.Run("compress-flate", func(b *testing.B) {
		var buf bytes.Buffer
		zw, _ := stdflate.NewWriter(&buf, stdflate.BestSpeed)
		b.SetBytes(int64(len(plain)))
		for b.Loop() {
			buf.Reset()
			zw.Reset(&buf)
			_, _ = zw.Write(plain)
			_ = zw.Flush()
		}
		b.ReportMetric(float64(buf.Len()), "bytes-out")
	})
	b.Run("klauspost-flate", func(b *testing.B) {
		b.SetBytes(int64(len(plain)))
		var d deflated
		for b.Loop() {
			d = deflate(plain)
		}
		b.ReportMetric(float64(len(d.data)), "bytes-out")
	})
}

// variedReport is a machine of procs processes whose command lines, users
// and figures differ as a real machine's do (report's repeat one line).
func variedReport(procs int) *gpumonv1.Report {
	rng := rand.New(rand.NewPCG(1, 2))
	r := report("node-001", 1, 3)
	users := []string{"alice", "bob", "carol", "dmitri", "root", "www-data", "zhang.wei"}
	for range procs {
		u := users[rng.IntN(len(users))]
		r.SystemInfo.Processes = append(r.SystemInfo.Processes, &gpumonv1.Process{
			Pid: int32(1000 + rng.IntN(400000)), Name: []string{"python", "bash", "sshd", "node", "java"}[rng.IntN(5)],
			Username: u, CpuPercent: float64(rng.IntN(10000)) / 100, MemoryPercent: float64(rng.IntN(1000)) / 100,
			Rss: float64(rng.IntN(1 << 34)), CreateTime: float64(1.7e9 + rng.IntN(1e7)), Status: "sleeping",
			Cmdline: fmt.Sprintf("/home/%s/.venv/bin/python /home/%s/projects/%x/train.py --lr 0.%04d --seed %d --data /data/%x/shard-%05d --out /scratch/%s/run-%08x",
				u, u, rng.Uint32(), rng.IntN(10000), rng.IntN(1<<20), rng.Uint64(), rng.IntN(99999), u, rng.Uint32())})
	}
	return r
}
