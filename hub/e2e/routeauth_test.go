package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestEveryRouteAuth: every REST route, on the hub (which calls its service
// in process) and on gpumon-gateway (over gRPC), refuses a missing or wrong
// token with 401 and the wrong kind of token with 403, and lets the right
// kinds through.
func TestEveryRouteAuth(t *testing.T) {
	const wrong = "not-a-token-0001"
	report := `{"hostname":"auth-host","gpu_data":[],"system_info":{"processes":[]}}`
	kill := `{"hostname":"nope","pids":[5]}`
	routes := []struct {
		method, path, body string
		allowed            []string // tokens that pass; the others get 403
	}{
		{"GET", "/api/gpu-stats", "", []string{apiToken, adminToken}},
		{"POST", "/api/report-gpu-stats", report, []string{agentToken, adminToken}},
		{"POST", "/api/kill-processes", kill, []string{adminToken}},
		{"GET", "/api/v1/machines", "", []string{apiToken, adminToken}},
		{"GET", "/api/v1/machines/nope", "", []string{apiToken, adminToken}},
		{"DELETE", "/api/v1/machines/nope", "", []string{adminToken}},
		{"GET", "/api/v1/free-gpus", "", []string{apiToken, adminToken}},
		{"GET", "/api/v1/gpus", "", []string{apiToken, adminToken}},
		{"GET", "/api/v1/history?machine=nope&metric=gpu_utilization", "", []string{apiToken, adminToken}},
		{"GET", "/api/v1/usage", "", []string{apiToken, adminToken}},
		{"GET", "/api/v1/active-alerts", "", []string{apiToken, adminToken}},
		{"GET", "/api/v1/watch", "", []string{apiToken, adminToken}},
	}
	restTargets(t, []string{"--api-token", apiToken}, func(t *testing.T, _ *hub, base string) {
		for _, rt := range routes {
			for _, tok := range []string{"", wrong, apiToken, agentToken, adminToken} {
				code := statusOf(t, rt.method, base+rt.path, tok, rt.body)
				switch {
				case tok == "" || tok == wrong:
					if code != http.StatusUnauthorized {
						t.Errorf("%s %s with token %q: %d, want 401", rt.method, rt.path, tok, code)
					}
				case contains(rt.allowed, tok):
					if code == http.StatusUnauthorized || code == http.StatusForbidden {
						t.Errorf("%s %s with token %q: %d, want it let through", rt.method, rt.path, tok, code)
					}
				default:
					if code != http.StatusForbidden {
						t.Errorf("%s %s with token %q: %d, want 403", rt.method, rt.path, tok, code)
					}
				}
			}
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// statusOf sends a request and returns its status code without waiting for
// the end of the body (a watch stream does not end).
func statusOf(t *testing.T, method, url, token, body string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
