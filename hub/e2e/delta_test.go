package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gpumon/gpumon/common/procdelta"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// deltaReports is a machine's samples in which processes start, end, come
// back under a reused PID, change their command line and move between GPUs;
// some hold what the hub must repair.
func deltaReports(n int, start time.Time) []*gpumonv1.Report {
	var out []*gpumonv1.Report
	for i := range n {
		r := &gpumonv1.Report{
			Timestamp: timestamppb.New(start.Add(time.Duration(i) * time.Second)), IntervalSeconds: 1,
			SystemInfo: &gpumonv1.SystemInfo{CpuPercent: float64(i), MemoryTotal: 1 << 40, MemoryUsed: 1 << 38, IpAddress: "10.0.0.9"},
		}
		for g := range 2 {
			r.GpuData = append(r.GpuData, &gpumonv1.Gpu{Id: int32(g), Name: "NVIDIA H100", Uuid: fmt.Sprintf("GPU-d-%d", g),
				MemoryTotal: 81559, MemoryUsed: uint32(1000 * (i + g)), Utilization: proto.Uint32(uint32((i * 7) % 100))})
		}
		for pid := int32(100); pid < 140; pid++ {
			if (pid+int32(i))%9 == 0 {
				continue // ended this sample, back later
			}
			p := &gpumonv1.Process{
				Pid: pid, Ppid: 1, Name: "python", Username: []string{"alice", "bob"}[pid%2], Status: "sleeping",
				Cmdline: fmt.Sprintf("python train.py --run %d", pid), CreateTime: 1764300000 + float64(pid) + float64(i/7)*1000, // PIDs reused every 7 samples
				MemoryPercent: 0.5, Rss: 1 << 30, ContainerId: "3f2a9c1b7d4e",
			}
			if pid < 110 {
				p.CpuPercent = float64((int(pid) + i) % 13)
			}
			if i%5 == 0 && pid == 120 {
				p.Cmdline += " --resumed"
			}
			// What the hub repairs: strings over their bounds (cut on a
			// rune boundary), figures that are not numbers. (Bad UTF-8
			// cannot travel in a protobuf string.)
			switch pid {
			case 130:
				p.Cmdline = "python run.py " + strings.Repeat("--flag é ", 500)
			case 131:
				p.Status = strings.Repeat("ü", 300)
			case 105:
				if i%4 == 0 {
					p.CpuPercent = math.NaN()
				}
			case 106:
				p.Rss = math.Inf(1)
			}
			r.SystemInfo.Processes = append(r.SystemInfo.Processes, p)
			if pid%10 == int32(i%10) || pid == 101 {
				gp := proto.Clone(p).(*gpumonv1.Process)
				g := int(pid+int32(i)) % 2
				gp.IsGpuProcess, gp.GpuMemoryUsage, gp.GpuId, gp.GpuIds = true, uint32(500*i+int(pid)), proto.Int32(int32(g)), []int32{int32(g)}
				r.GpuData[g].Processes = append(r.GpuData[g].Processes, gp)
			}
		}
		out = append(out, r)
	}
	return out
}

// TestDeltasGiveWhatFullSnapshotsGive feeds the same samples to one hub as
// full snapshots (one machine) and as deltas (another), the deltas over two
// streams with a reconnect and a replay of acknowledged samples between,
// and finds the same reports on the documented route, the native route and
// the watch stream, and the same history; with figures told whole and as
// columns.
func TestDeltasGiveWhatFullSnapshotsGive(t *testing.T) {
	for _, columns := range []bool{false, true} {
		t.Run(fmt.Sprintf("columns=%v", columns), func(t *testing.T) { testDeltasGiveWhatFullSnapshotsGive(t, columns) })
	}
}

func testDeltasGiveWhatFullSnapshotsGive(t *testing.T, columns bool) {
	h := newHub(t)
	watch := collectWatch(t, h.http+"/api/v1/watch?include_report=true")
	full := connectHand(t, h, helloFor("full-host", "full-id"))
	helloDelta := helloFor("delta-host", "delta-id")
	helloDelta.Capabilities = []string{procdelta.Capability}
	delta := connectHand(t, h, helloDelta)
	if !slices.Contains(delta.welcome.GetCapabilities(), procdelta.Capability) {
		t.Fatalf("welcome capabilities %v: the hub does not take deltas", delta.welcome.GetCapabilities())
	}
	if columns && !slices.Contains(delta.welcome.GetCapabilities(), procdelta.ColumnsCapability) {
		t.Fatalf("welcome capabilities %v: the hub does not take columns", delta.welcome.GetCapabilities())
	}
	told := 0 // processes whose figures went as columns
	const n = 30
	reports := deltaReports(n, time.Now().Add(-time.Minute).Truncate(time.Millisecond))
	enc := procdelta.Encoder{Columns: columns}
	sendDelta := func(a *handAgent, seq int) {
		s := &gpumonv1.Snapshot{Seq: uint64(seq + 1), Report: proto.Clone(reports[seq]).(*gpumonv1.Report)}
		if !enc.Encode(s) {
			t.Fatalf("sample %d could not be a delta", seq)
		}
		told += len(s.GetProcesses().GetColumns().GetCpuPercentAt())
		if err := a.sendMsg(&gpumonv1.ConnectRequest{Msg: &gpumonv1.ConnectRequest_Snapshot{Snapshot: s}}); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range reports {
		s := &gpumonv1.Snapshot{Seq: uint64(i + 1), Report: proto.Clone(r).(*gpumonv1.Report)}
		if err := full.sendMsg(&gpumonv1.ConnectRequest{Msg: &gpumonv1.ConnectRequest_Snapshot{Snapshot: s}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		sendDelta(delta, i)
	}
	delta.waitAcked(20)
	// A new stream: the hub starts over, and so does the agent; samples 16
	// to 20 are replayed (acknowledged already: held once), then the rest.
	delta.close()
	enc = procdelta.Encoder{Columns: columns}
	delta = connectHand(t, h, helloDelta)
	for i := 15; i < n; i++ {
		sendDelta(delta, i)
	}
	full.waitAcked(n)
	delta.waitAcked(n)

	// The native route and the documented one.
	// What differs between two machines fed the same samples: their names,
	// and idle_since, which the hub stamps with its own receive time.
	norm := func(v any) any {
		m := v.(map[string]any)
		for _, k := range []string{"hostname", "machine_fingerprint"} {
			delete(m, k)
		}
		gpus, _ := m["gpu_data"].([]any)
		for _, g := range gpus {
			delete(g.(map[string]any), "idle_since")
		}
		return m
	}
	got := func(host string) any {
		_, v, _ := call(t, "GET", h.http+"/api/v1/machines/"+host, "", nil)
		return norm(v.(map[string]any)["report"])
	}
	if a, b := got("full-host"), got("delta-host"); !reflect.DeepEqual(a, b) {
		t.Errorf("GET /api/v1/machines differs:\nfull  %s\ndelta %s", brief(a), brief(b))
	}
	stats := machines(t, h.http)
	if a, b := norm(stats["full-host"]), norm(stats["delta-host"]); !reflect.DeepEqual(a, b) {
		t.Errorf("GET /api/gpu-stats differs")
	}
	// History: the per-user series come from the processes' static facts.
	at := time.Now()
	for _, expr := range []string{`gpumon_user_gpu_memory_mib{user="alice"`, `gpumon_user_gpus{user="bob"`, `DCGM_FI_DEV_FB_USED{gpu="1"`} {
		a := rawSamples(t, h.http, expr+`,machine="full-host"}`, at)
		b := rawSamples(t, h.http, expr+`,machine="delta-host"}`, at)
		if len(a) != n || !reflect.DeepEqual(a, b) {
			t.Errorf("%s}: %d samples from full snapshots, %d from deltas, or they differ:\n%v\n%v", expr, len(a), len(b), a, b)
		}
	}
	// The watch stream: its queue keeps each machine's newest event, so a
	// watcher sees some of the samples; those it sees of both machines are
	// the same, the last one included.
	last := reports[n-1].GetTimestamp().AsTime().UTC().Format(time.RFC3339Nano)
	events := watch.reports(t, func(perHost map[string]map[string]any) bool {
		return perHost["full-host"][last] != nil && perHost["delta-host"][last] != nil
	})
	both := 0
	for ts, fr := range events["full-host"] {
		dr, ok := events["delta-host"][ts]
		if !ok {
			continue
		}
		both++
		if !reflect.DeepEqual(norm(fr), norm(dr)) {
			t.Fatalf("watch: the sample of %s differs:\nfull  %s\ndelta %s", ts, brief(fr), brief(dr))
		}
	}
	if columns != (told > 0) {
		t.Errorf("%d CPU figures went as columns", told)
	}
	t.Logf("watch: %d samples seen of both machines; %d CPU figures went as columns", both, told)
}

// TestBadDeltasEndTheStream: a delta naming a process the stream never
// described, or sent by an agent that did not ask for deltas, ends the
// stream unacknowledged and stores nothing of it.
func TestBadDeltasEndTheStream(t *testing.T) {
	h := newHub(t)
	for _, tt := range []struct {
		name string
		caps []string
		code codes.Code
	}{
		{"unknown pid", []string{procdelta.Capability}, codes.FailedPrecondition},
		{"not negotiated", nil, codes.InvalidArgument},
	} {
		t.Run(tt.name, func(t *testing.T) {
			hello := helloFor("bad-"+strings.ReplaceAll(tt.name, " ", "-"), tt.name)
			hello.Capabilities = tt.caps
			a := connectHand(t, h, hello)
			r := deltaReports(1, time.Now())[0]
			r.SystemInfo.Processes, r.GpuData[0].Processes, r.GpuData[1].Processes = nil, nil, nil
			s := &gpumonv1.Snapshot{Seq: 1, Report: r, Processes: &gpumonv1.ProcessDelta{Order: []int32{4242}, Gpus: []*gpumonv1.GpuProcesses{{}, {}}}}
			if err := a.sendMsg(&gpumonv1.ConnectRequest{Msg: &gpumonv1.ConnectRequest_Snapshot{Snapshot: s}}); err != nil {
				t.Fatal(err)
			}
			select {
			case <-a.ended:
			case <-time.After(20 * time.Second):
				t.Fatal("the stream did not end")
			}
			if _, err := a.st.Recv(); status.Code(err) != tt.code {
				t.Errorf("stream ended with %v, want %s", err, tt.code)
			}
			if a.ackedUpTo() != 0 {
				t.Error("the bad delta was acknowledged")
			}
		})
	}
}

// watchReports collects the reports of a watch stream's events by hostname
// and sample time, the first event of each sample (a later status event
// repeats the report with is_online changed).
type watchReports struct {
	mu      sync.Mutex
	perHost map[string]map[string]any
}

func collectWatch(t *testing.T, url string) *watchReports {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("watch: %v %v", resp, err)
	}
	w := &watchReports{perHost: map[string]map[string]any{}}
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			var ev map[string]any
			if json.Unmarshal(sc.Bytes(), &ev) != nil || ev["report"] == nil || ev["type"] == "WATCH_EVENT_TYPE_INITIAL" {
				continue
			}
			r, _ := ev["report"].(map[string]any)
			host, _ := r["hostname"].(string)
			ts, _ := r["timestamp"].(string)
			w.mu.Lock()
			if w.perHost[host] == nil {
				w.perHost[host] = map[string]any{}
			}
			if _, seen := w.perHost[host][ts]; !seen {
				w.perHost[host][ts] = r
			}
			w.mu.Unlock()
		}
	}()
	return w
}

func (w *watchReports) reports(t *testing.T, done func(map[string]map[string]any) bool) map[string]map[string]any {
	t.Helper()
	waitFor(t, "watch events", 30*time.Second, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return done(w.perHost)
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.perHost
}

// brief is v as JSON, cut short.
func brief(v any) string {
	b, _ := json.Marshal(v)
	return fmt.Sprintf("%.800s", b)
}
