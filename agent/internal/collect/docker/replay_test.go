package docker

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/client"
	"go.uber.org/goleak"

	"github.com/gpumon/gpumon/agent/internal/collect"
)

// versioned strips the API version the client negotiated ("/v1.47").
var versioned = regexp.MustCompile(`^/v[0-9.]+`)

// replayDaemon answers like a Docker Engine from the recorded JSON.
func replayDaemon(t *testing.T) *httptest.Server {
	t.Helper()
	serve := func(w http.ResponseWriter, name string) {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			http.Error(w, `{"message":"No such container"}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.47")
		w.Header().Set("Server", "Docker/27.5.1 (linux)")
		path := versioned.ReplaceAllString(r.URL.Path, "")
		parts := strings.Split(strings.Trim(path, "/"), "/")
		switch {
		case path == "/_ping":
			_, _ = w.Write([]byte("OK"))
		case path == "/containers/json":
			serve(w, "containers.json")
		case len(parts) == 3 && parts[0] == "containers" && parts[2] == "json":
			serve(w, "inspect-"+shortID(parts[1])+".json")
		case len(parts) == 3 && parts[0] == "containers" && parts[2] == "stats":
			if r.URL.Query().Get("stream") != "0" && r.URL.Query().Get("stream") != "false" {
				t.Errorf("stats asked with stream=%q", r.URL.Query().Get("stream"))
			}
			serve(w, "stats-"+shortID(parts[1])+".json")
		default:
			t.Errorf("unexpected request %s %s", r.Method, r.URL)
			http.NotFound(w, r)
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// hostOf turns an httptest URL into a DOCKER_HOST value.
func hostOf(srv *httptest.Server) string { return "tcp://" + srv.Listener.Addr().String() }

func TestCollectRealClientReplay(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := replayDaemon(t)
	c := New(nil, WithClientOpts(client.WithHost(hostOf(srv)), client.WithHTTPClient(srv.Client())),
		WithListInterval(20*time.Millisecond), WithStatsInterval(20*time.Millisecond))
	collectUntil(t, c, wantRecorded)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	srv.Close()
}

func TestCollectHungDaemon(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // never answers
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	c := New(nil, WithClientOpts(client.WithHost(hostOf(srv)), client.WithHTTPClient(srv.Client())))
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		returned := make(chan error, 1)
		go func() {
			var s collect.Sample
			returned <- c.Collect(ctx, &s)
		}()
		select {
		case err := <-returned:
			if err == nil {
				t.Error("Collect reported success while the daemon never answered")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Collect did not return after its context ended")
		}
		cancel()
	}
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs on a hung daemon")
	}
}

func TestCollectNoDaemon(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	sock := filepath.Join(t.TempDir(), "docker.sock")
	c := New(nil, WithClientOpts(client.WithHost("unix://"+sock)))
	defer c.Close()
	var s collect.Sample
	err := c.Collect(context.Background(), &s)
	if !errors.Is(err, collect.ErrUnavailable) {
		t.Fatalf("Collect = %v, want ErrUnavailable", err)
	}
	if len(s.Containers) != 0 {
		t.Errorf("containers without a daemon: %v", s.Containers)
	}
}
