package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// postQuery sends a PromQL query as Grafana does (a form POST) and returns
// the status and Prometheus's answer.
func postQuery(t *testing.T, base, query string) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(base+"/api/v1/query", url.Values{"query": {query}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("answer is not JSON: %v", err)
	}
	return resp.StatusCode, v
}

// TestPromQLLimits: three 40,000-deep parenthesised queries ran ~78 s each
// and slowed /api/gpu-stats 50-fold. They are refused before parsing, in
// Prometheus's error shape, while the documented route keeps answering; a
// query over --query.max-samples fails as Prometheus's does.
func TestPromQLLimits(t *testing.T) {
	h := newHub(t, "--query.max-samples", "20")
	startAgent(t, h, "e2e-promql", "dgxh100")
	waitFor(t, "a few samples", 30*time.Second, func() bool { return len(seqs(t, h.http, "e2e-promql")) >= 4 })

	deep := strings.Repeat("(", 40000) + "1" + strings.Repeat(")", 40000)
	begin := time.Now()
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, v := postQuery(t, h.http, deep)
			if code != http.StatusBadRequest || v["status"] != "error" || v["errorType"] != "bad_data" || !strings.Contains(v["error"].(string), "over the limit") {
				t.Errorf("40,000-deep query: %d %v, want 400 bad_data", code, v)
			}
		}()
	}
	if code, _, _ := call(t, http.MethodGet, h.http+"/api/gpu-stats", "", nil); code != http.StatusOK {
		t.Errorf("/api/gpu-stats during the deep queries: %d", code)
	}
	wg.Wait()
	t.Logf("three 40,000-deep queries refused in %s", time.Since(begin).Round(time.Millisecond))

	code, v := postQuery(t, h.http, strings.Repeat("(", 300)+"1"+strings.Repeat(")", 300))
	if code != http.StatusBadRequest || !strings.Contains(v["error"].(string), "300 deep") {
		t.Errorf("300-deep query: %d %v, want 400", code, v)
	}
	code, v = postQuery(t, h.http, `DCGM_FI_DEV_GPU_UTIL[10m]`)
	if code != http.StatusUnprocessableEntity || v["errorType"] != "execution" || !strings.Contains(v["error"].(string), "too many samples") {
		t.Errorf("a query over --query.max-samples 20: %d %v, want 422 execution", code, v)
	}
	if code, v := postQuery(t, h.http, `count(DCGM_FI_DEV_GPU_UTIL)`); code != http.StatusOK {
		t.Errorf("a small query: %d %v", code, v)
	}
}
