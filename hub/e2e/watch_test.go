package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// clientFrom is an HTTP client whose connections come from the loopback
// address ip (another "machine" for per-address limits).
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// openWatch starts a REST watch and returns its response (status checked by
// the caller) and a cancel.
func openWatch(t *testing.T, c *http.Client, url string) (*http.Response, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := c.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("watch: %v", err)
	}
	return resp, func() { cancel(); resp.Body.Close() }
}

// TestWatchersAreCapped: watch streams are capped per client address and
// in total (REST and gRPC alike); over a cap the answer is 429 saying which.
func TestWatchersAreCapped(t *testing.T) {
	h := newHub(t, "--legacy-open", "--max-watchers", "5", "--max-watchers-per-client", "3")
	// A machine, so that a watch answers at once with its initial state.
	if code, v := postReport(t, h.http, []byte(`{"hostname":"e2e-watched"}`)); code != http.StatusOK {
		t.Fatalf("post: %d %v", code, v)
	}
	var closers []context.CancelFunc
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	watch := func(c *http.Client, want int, msg string) {
		t.Helper()
		resp, cancel := openWatch(t, c, h.http+"/api/v1/watch")
		if resp.StatusCode != want {
			t.Fatalf("watch: %d, want %d", resp.StatusCode, want)
		}
		if want != http.StatusOK {
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			cancel()
			if !strings.Contains(fmt.Sprint(body["message"]), msg) {
				t.Errorf("refusal %v, want it to name %q", body, msg)
			}
			return
		}
		closers = append(closers, cancel)
	}
	local, other := clientFrom("127.0.0.1"), clientFrom("127.0.0.2")
	for range 3 {
		watch(local, http.StatusOK, "")
	}
	watch(local, http.StatusTooManyRequests, "--max-watchers-per-client")
	watch(other, http.StatusOK, "")
	watch(other, http.StatusOK, "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := gpumonv1.NewFleetServiceClient(dialHub(t, h)).Watch(ctx, &gpumonv1.WatchRequest{})
	if err == nil {
		_, err = st.Recv()
	}
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "--max-watchers") {
		t.Errorf("a sixth watch over gRPC: %v, want ResourceExhausted", err)
	}
	closers[0]()
	waitFor(t, "a freed slot", 10*time.Second, func() bool { return metric(t, h.http, "gpumon_hub_watch_subscribers") == 4 })
	watch(local, http.StatusOK, "")
	waitFor(t, "refusals logged", 10*time.Second, func() bool { return len(logLines(h, "watch refused", "result=ResourceExhausted")) >= 2 })
}

// TestSlowWatchers: 200 non-reading watchers plus 3,000 posts took a hub to
// 5 GiB (each watcher queued every event). A watcher now holds at most the
// newest event per machine; one that falls behind is disconnected, and one
// that still reads gets a last line saying why.
func TestSlowWatchers(t *testing.T) {
	const machines, watchers, rounds = 50, 200, 60
	h := newHub(t, "--legacy-open", "--watch-max-lag", "3s", "--max-watchers", "500", "--max-watchers-per-client", "500")
	post := func(i, round int) {
		body, _ := bigReport(t, fmt.Sprintf("e2e-watch-%02d", i), 30, 200)
		body = []byte(strings.Replace(string(body), `"cpu_percent":12.5`, fmt.Sprintf(`"cpu_percent":%d`, round), 1))
		if code, v := postReport(t, h.http, body); code != http.StatusOK {
			t.Fatalf("post: %d %v", code, v)
		}
	}
	for i := range machines {
		post(i, 0)
	}
	rss0 := metric(t, h.http, "process_resident_memory_bytes")
	addr := strings.TrimPrefix(h.http, "http://")
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range watchers { // ask, and never read
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(c, "GET /api/v1/watch?include_report=true HTTP/1.1\r\nHost: hub\r\n\r\n")
		conns = append(conns, c)
	}
	waitFor(t, "every watcher subscribed", 30*time.Second, func() bool {
		return metric(t, h.http, "gpumon_hub_watch_subscribers") == watchers
	})

	// A slow reader: one line a tenth of a second while the fleet changes,
	// then as fast as it can, to the end.
	resp, cancel := openWatch(t, http.DefaultClient, h.http+"/api/v1/watch?include_report=true")
	defer cancel()
	lines := make(chan string, 1<<16)
	var slow atomic.Bool
	slow.Store(true)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			lines <- sc.Text()
			if slow.Load() {
				time.Sleep(100 * time.Millisecond)
			}
		}
	}()

	begin := time.Now()
	var peak float64
	for round := 1; round <= rounds; round++ {
		var wg sync.WaitGroup
		for i := range machines {
			wg.Add(1)
			go func() { defer wg.Done(); post(i, round) }()
		}
		wg.Wait()
		peak = max(peak, metric(t, h.http, "process_resident_memory_bytes"))
	}
	t.Logf("%d non-reading watchers, %d posts in %s: RSS %.0f → peak %.0f MiB (%.2f MiB per watcher)", watchers, machines*rounds,
		time.Since(begin).Round(time.Second), rss0/(1<<20), peak/(1<<20), (peak-rss0)/watchers/(1<<20))
	if peak-rss0 > 1<<30 {
		t.Errorf("RSS grew %.0f MiB with %d non-reading watchers: their queues are not bounded", (peak-rss0)/(1<<20), watchers)
	}
	waitFor(t, "watchers that fell behind disconnected", 60*time.Second, func() bool {
		return metric(t, h.http, "gpumon_hub_watch_subscribers") == 0
	})
	slow.Store(false) // read what is left, up to the last line
	if n := shedMetric(t, h.http, "watchers_behind"); n < watchers+1 {
		t.Errorf("%.0f watchers disconnected for falling behind, want %d", n, watchers+1)
	}
	var last string
	for l := range lines {
		last = l
	}
	var end map[string]any
	if err := json.Unmarshal([]byte(last), &end); err != nil || end["status"] != "error" || !strings.Contains(fmt.Sprint(end["message"]), "behind the fleet") {
		t.Errorf("the slow reader's last line %q, want the documented error body saying it fell behind", last)
	}
}
