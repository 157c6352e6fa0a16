package service

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestWatchersCaps(t *testing.T) {
	w := &Watchers{Max: 4, PerClient: 2}
	var releases []func()
	admit := func(client, wantErr string) {
		t.Helper()
		release, err := w.admit(client)
		if wantErr == "" {
			if err != nil {
				t.Fatalf("%s refused: %v", client, err)
			}
			releases = append(releases, release)
			return
		}
		if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("%s: %v, want ResourceExhausted naming %q", client, err, wantErr)
		}
	}
	admit("10.0.0.1", "")
	admit("10.0.0.1", "")
	admit("10.0.0.1", "--max-watchers-per-client")
	admit("10.0.0.2", "")
	admit("10.0.0.3", "")
	admit("10.0.0.4", "maximum of 4 watch streams")
	releases[0]()
	releases[0]() // twice is once
	admit("10.0.0.1", "")
	admit("10.0.0.4", "maximum of 4")
	for _, r := range releases {
		r()
	}
	if w.total != 0 || len(w.byClient) != 0 {
		t.Errorf("after every release: total %d, clients %v", w.total, w.byClient)
	}
	var none *Watchers
	if _, err := none.admit("x"); err != nil {
		t.Error("nil Watchers refused")
	}
}
