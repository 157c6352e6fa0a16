package e2e

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// getStatus is the status code of a GET of u with token ("" for none).
func getStatus(t *testing.T, u, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return resp.StatusCode, string(b)
}

// TestReadRoutesNeedTheAPIToken: with --api-token, every read route of the
// history, the PromQL API and /metrics refuses a request without the token,
// with a wrong one or with the agent's, and answers with it (docs/HISTORY.md:
// "The API token protects all of these").
func TestReadRoutesNeedTheAPIToken(t *testing.T) {
	h := newHub(t, "--api-token", apiToken)
	now := strconv.FormatInt(time.Now().Unix(), 10)
	hourAgo := strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)
	routes := []string{
		"/api/v1/query?query=1",
		"/api/v1/query_range?query=1&step=60&start=" + hourAgo + "&end=" + now,
		"/api/v1/labels",
		"/api/v1/label/machine/values",
		"/api/v1/series?match[]=" + url.QueryEscape("gpumon_machine_up"),
		"/api/v1/metadata",
		"/api/v1/query_exemplars?query=gpumon_machine_up",
		"/api/v1/format_query?query=" + url.QueryEscape("sum(gpumon_machine_up)"),
		"/api/v1/status/buildinfo",
		"/api/v1/status/runtimeinfo",
		"/api/v1/status/config",
		"/api/v1/status/flags",
		"/api/v1/rules",
		"/api/v1/alerts",
		"/api/v1/history?metric=cpu_percent",
		"/api/v1/usage",
		"/metrics",
	}
	for _, route := range routes {
		t.Run(route, func(t *testing.T) {
			for _, tc := range []struct{ who, token string }{{"no token", ""}, {"a wrong token", "wrong-token-e2e-0001"}, {"the agent token", agentToken}} {
				if code, body := getStatus(t, h.http+route, tc.token); code != http.StatusUnauthorized && code != http.StatusForbidden {
					t.Errorf("with %s: status %d, want 401 or 403: %s", tc.who, code, body)
				}
			}
			if code, body := getStatus(t, h.http+route, apiToken); code != http.StatusOK {
				t.Errorf("with the API token: status %d, want 200: %s", code, body)
			}
		})
	}
}

// TestHistoryURLAnswersFromAnotherStore: a hub started with --history-url
// answers the PromQL and native history routes from that API. Here the
// store is another hub, which has an agent the first hub has never seen:
// its series can only come from there.
func TestHistoryURLAnswersFromAnotherStore(t *testing.T) {
	store := newHub(t)
	startAgent(t, store, "remote-a", "rtx4090x2")
	front := newHub(t, "--history-url", store.http)
	q := "/api/v1/query?query=" + url.QueryEscape(`count(DCGM_FI_DEV_FB_TOTAL{Hostname="remote-a"})`)
	waitFor(t, "the store hub to hold remote-a's GPUs", 60*time.Second, func() bool {
		return promValue(t, store.http+q) == "2"
	})
	if got := promValue(t, front.http+q); got != "2" {
		t.Errorf("the front hub counts %q GPUs of remote-a, want 2 from --history-url", got)
	}
	code, v, _ := call(t, http.MethodGet, front.http+"/api/v1/history?metric=gpu_memory_total&machine=remote-a", "", nil)
	series, _ := v.(map[string]any)["series"].([]any)
	if code != http.StatusOK || len(series) != 2 {
		t.Errorf("native history of remote-a from the front hub: status %d, %d series, want 200 and 2: %v", code, len(series), v)
	}
	if _, known := machines(t, front.http)["remote-a"]; known {
		t.Error("the front hub lists remote-a as its own machine: only its history comes from the store")
	}
}

// promValue is the value of the first sample of an instant vector query, or
// "" when there is none.
func promValue(t *testing.T, u string) string {
	t.Helper()
	_, v, _ := call(t, http.MethodGet, u, "", nil)
	res, _ := v.(map[string]any)["data"].(map[string]any)["result"].([]any)
	if len(res) == 0 {
		return ""
	}
	pair, _ := res[0].(map[string]any)["value"].([]any)
	if len(pair) != 2 {
		return ""
	}
	s, _ := pair[1].(string)
	return s
}
