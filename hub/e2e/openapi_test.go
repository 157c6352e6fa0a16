package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gpumon/gpumon/common/openapitest"
	"github.com/gpumon/gpumon/gen/openapi"
)

const apiToken = "api-token-e2e-0001"

// contract holds a live hub's answers to its OpenAPI document.
type contract struct {
	t    *testing.T
	doc  *openapitest.Document
	base string
}

// check sends a request (a body as application/json), expects status and
// validates the answer against the document's response for that status.
func (c *contract) check(method, path, token, body string, status int) []byte {
	c.t.Helper()
	return c.checkAs(method, path, token, "application/json", body, status)
}

// checkAs is check with the body sent as contentType.
func (c *contract) checkAs(method, path, token, contentType, body string, status int) []byte {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if resp.StatusCode != status {
		c.t.Errorf("%s %s: status %d, want %d: %.300s", method, path, resp.StatusCode, status, data)
		return data
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		c.t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	op, err := c.doc.Operation(method, strings.SplitN(path, "?", 2)[0])
	if err != nil {
		c.t.Fatal(err)
	}
	if err := op.Check(resp.StatusCode, data); err != nil {
		c.t.Errorf("%v\nbody: %.500s", err, data)
	}
	return data
}

// listed fails unless the document names each status for the route itself,
// not only through its default error: clients generated from it see these.
func (c *contract) listed(method, path string, statuses ...int) {
	c.t.Helper()
	op, err := c.doc.Operation(method, path)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, status := range statuses {
		if op.Responses[strconv.Itoa(status)] == nil {
			c.t.Errorf("%s %s: the document does not list %d", method, path, status)
		}
	}
}

// TestOpenAPIContract calls every route of the OpenAPI document on a live
// hub (and on gpumon-gateway in front of it), successes and errors, and
// validates every answer, including the watch stream's lines, against the
// document: undocumented statuses, properties, nulls and types fail.
func TestOpenAPIContract(t *testing.T) {
	doc, err := openapitest.Parse(openapi.JSON)
	if err != nil {
		t.Fatal(err)
	}
	report, err := os.ReadFile("../../common/wirejson/testdata/python_collector.json")
	if err != nil {
		t.Fatal(err)
	}
	h := newHub(t, "--api-token", apiToken)
	startAgent(t, h, "gpu-a", "dgxh100", "--allow-kill")
	gw := startGateway(t, h)
	waitFor(t, "gpu-a's first report", 30*time.Second, func() bool {
		code, _, _ := call(t, "GET", h.http+"/api/v1/machines/gpu-a", apiToken, nil)
		return code == http.StatusOK
	})
	for _, target := range []struct{ name, base string }{{"hub", h.http}, {"gateway", gw}} {
		t.Run(target.name, func(t *testing.T) { checkContract(t, doc, string(report), target.base) })
	}
}

func checkContract(t *testing.T, doc *openapitest.Document, report, base string) {
	c := &contract{t: t, doc: doc, base: base}
	watch := startWatch(t, base+"/api/v1/watch?include_report=true&free.max_utilization=100&free.shared=true", apiToken)
	old := "old-" + strings.TrimPrefix(t.Name(), "TestOpenAPIContract/")
	legacy := strings.Replace(report, `"lab-gpu-03"`, `"`+old+`"`, 1)
	testContractWrites(c, legacy)
	testContractReads(c, old)
	testContractKills(c, old)

	// Forgetting needs an offline machine: the legacy one, once it is quiet.
	waitFor(t, old+" offline", 60*time.Second, func() bool {
		_, v, _ := call(t, "GET", base+"/api/v1/machines/"+old, apiToken, nil)
		m, _ := v.(map[string]any)
		s, _ := m["summary"].(map[string]any)
		return s != nil && s["online"] == false
	})
	c.check("DELETE", "/api/v1/machines/"+old, adminToken, "", 200)

	lines := watch.wait(t)
	op, err := doc.Operation("GET", "/api/v1/watch")
	if err != nil {
		t.Fatal(err)
	}
	if err := op.CheckStream(lines); err != nil {
		t.Error(err)
	}

	var served struct {
		Info map[string]any `json:"info"`
	}
	if err := json.Unmarshal(c.checkRaw("/api/v1/openapi.json"), &served); err != nil {
		t.Fatal(err)
	}
	if served.Info["version"] != e2eVersion || served.Info["title"] != "gpumon REST API" {
		t.Errorf("served info %v, want the binary's version %q and the API's title", served.Info, e2eVersion)
	}
}

func (c *contract) checkRaw(path string) []byte {
	c.t.Helper()
	resp, err := http.Get(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	return data
}

func testContractWrites(c *contract, legacy string) {
	c.check("POST", "/api/report-gpu-stats", agentToken, legacy, 200)
	c.check("POST", "/api/report-gpu-stats", "", legacy, 401)
	c.check("POST", "/api/report-gpu-stats", apiToken, legacy, 403)
	c.check("POST", "/api/report-gpu-stats", agentToken, `hostname=x`, 400)
	c.check("POST", "/api/report-gpu-stats", agentToken, `{"hostname":""}`, 400)
	c.check("POST", "/api/report-gpu-stats", agentToken, `{"hostname":"`+strings.Repeat("x", 9<<20)+`"}`, 413)
	c.checkAs("POST", "/api/report-gpu-stats", agentToken, "text/plain", legacy, 415)
	procs := strings.Repeat(`{"pid":1},`, 5000) + `{"pid":1}` // one over --max-report-processes
	c.check("POST", "/api/report-gpu-stats", agentToken, `{"hostname":"e2e-contract-many","system_info":{"processes":[`+procs+`]}}`, 507)
	c.listed("POST", "/api/report-gpu-stats", 413, 415, 507)
	c.listed("POST", "/api/kill-processes", 413, 415)
	c.listed("GET", "/api/v1/watch", 429)
}

func testContractReads(c *contract, old string) {
	for _, path := range []string{
		"/api/gpu-stats", "/api/v1/machines", "/api/v1/machines?online_only=true",
		"/api/v1/machines/gpu-a", "/api/v1/machines/" + old,
		"/api/v1/free-gpus", "/api/v1/free-gpus?min_free_memory=1024&idle=true&include_offline=true",
		"/api/v1/gpus", "/api/v1/gpus?include_offline=true",
		"/api/v1/history?metric=gpu_utilization&machine=gpu-a", "/api/v1/history?metric=cpu_percent",
		"/api/v1/usage", "/api/v1/usage?start=" + url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)),
		"/api/v1/active-alerts", "/api/v1/active-alerts?include_pending=true&machine=gpu-a",
	} {
		c.check("GET", path, apiToken, "", 200)
		c.check("GET", path, adminToken, "", 200)
	}
	c.check("GET", "/api/gpu-stats", "", "", 401)
	c.check("GET", "/api/v1/machines", agentToken, "", 403)
	c.check("GET", "/api/v1/machines", "wrong-token-0001", "", 401)
	c.check("GET", "/api/v1/machines?online_only=maybe", apiToken, "", 400)
	c.check("GET", "/api/v1/machines/no-such-machine", apiToken, "", 404)
	c.check("GET", "/api/v1/free-gpus?max_utilization=101", apiToken, "", 400)
	c.check("GET", "/api/v1/gpus?include_offline=maybe", apiToken, "", 400)
	c.check("GET", "/api/v1/history?metric=no+such+metric", apiToken, "", 400)
	c.check("GET", "/api/v1/usage?start=2030-01-01T00:00:00Z&end=2020-01-01T00:00:00Z", apiToken, "", 400)
	c.check("GET", "/api/v1/watch?include_report=maybe", apiToken, "", 400)
	c.check("GET", "/api/v1/watch", "", "", 401)
}

func testContractKills(c *contract, old string) {
	kill := func(host string, pids string) string { return `{"hostname":"` + host + `","pids":` + pids + `}` }
	c.check("POST", "/api/kill-processes", adminToken, kill("gpu-a", "[999999]"), 200)
	c.check("POST", "/api/kill-processes", adminToken, kill("gpu-a", "[]"), 400)
	c.check("POST", "/api/kill-processes", adminToken, kill("gpu-a", `["x"]`), 400)
	c.check("POST", "/api/kill-processes", adminToken, kill("gpu-a", "[1785.5]"), 400)
	c.checkAs("POST", "/api/kill-processes", adminToken, "application/x-www-form-urlencoded", kill("gpu-a", "[5]"), 415)
	c.check("POST", "/api/kill-processes", adminToken, kill("no-such-machine", "[5]"), 404)
	c.check("POST", "/api/kill-processes", adminToken, kill(old, "[5]"), 503)
	c.check("POST", "/api/kill-processes", apiToken, kill("gpu-a", "[5]"), 403)
	c.check("POST", "/api/kill-processes", "", kill("gpu-a", "[5]"), 401)
	c.check("DELETE", "/api/v1/machines/gpu-a", adminToken, "", 409)
	c.check("DELETE", "/api/v1/machines/no-such-machine", adminToken, "", 404)
	c.check("DELETE", "/api/v1/machines/gpu-a", apiToken, "", 403)
}

// watchLines collects the lines of a watch stream until it has seen an
// initial event, a sample with its report and a heartbeat.
type watchLines struct {
	cancel context.CancelFunc
	done   chan [][]byte
}

func startWatch(t *testing.T, url, token string) *watchLines {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		cancel()
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	w := &watchLines{cancel: cancel, done: make(chan [][]byte, 1)}
	go func() {
		defer resp.Body.Close()
		var lines [][]byte
		seen := map[string]bool{}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() && !(seen["WATCH_EVENT_TYPE_INITIAL"] && seen["WATCH_EVENT_TYPE_SAMPLE"] && seen["WATCH_EVENT_TYPE_HEARTBEAT"]) {
			line := bytes.Clone(sc.Bytes())
			lines = append(lines, line)
			var ev struct{ Type string }
			_ = json.Unmarshal(line, &ev)
			seen[ev.Type] = true
		}
		w.done <- lines
	}()
	t.Cleanup(cancel)
	return w
}

// wait returns the lines once the three kinds of event arrived (a heartbeat
// comes every 15 s), failing the test after 90 s.
func (w *watchLines) wait(t *testing.T) [][]byte {
	t.Helper()
	lines := <-w.done
	w.cancel()
	kinds := map[string]bool{}
	for _, l := range lines {
		var ev struct{ Type string }
		_ = json.Unmarshal(l, &ev)
		kinds[ev.Type] = true
	}
	for _, k := range []string{"WATCH_EVENT_TYPE_INITIAL", "WATCH_EVENT_TYPE_SAMPLE", "WATCH_EVENT_TYPE_HEARTBEAT"} {
		if !kinds[k] {
			t.Errorf("the watch stream sent no %s within 90 s (%d lines)", k, len(lines))
		}
	}
	return lines
}
