package history

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCheckQuery(t *testing.T) {
	deep := strings.Repeat("(", 40000) + "1" + strings.Repeat(")", 40000)
	tests := []struct {
		name, query string
		err         string // empty: accepted
	}{
		{"ordinary", `avg by (Hostname) (rate(DCGM_FI_DEV_GPU_UTIL{Hostname=~"a|b"}[5m]))`, ""},
		{"as deep as allowed", strings.Repeat("(", MaxQueryDepth) + "1" + strings.Repeat(")", MaxQueryDepth), ""},
		{"brackets inside strings do not count", `up{job="` + strings.Repeat("(", 1000) + `"}`, ""},
		{"nor in a comment", "up # " + strings.Repeat("[", 1000), ""},
		{"40,000 deep", deep, "over the limit of 65536"},
		{"300 deep", strings.Repeat("(", 300) + "1" + strings.Repeat(")", 300), "nests brackets 300 deep"},
		{"too long", strings.Repeat("1+", 40000) + "1", "over the limit of 65536"},
		{"mixed brackets", strings.Repeat("({[", 100) + strings.Repeat("]})", 100), "nests brackets 300 deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckQuery(tt.query, DefaultQueryLength)
			if (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("error %v, want %q", err, tt.err)
			}
		})
	}
}

// TestEngineRefusesHugeQueries: the store's engine refuses a query over the
// limits at parse time, before any work.
func TestEngineRefusesHugeQueries(t *testing.T) {
	s := openStore(t, t.TempDir())
	deep := strings.Repeat("(", 40000) + "1" + strings.Repeat(")", 40000)
	_, err := s.Engine().NewInstantQuery(context.Background(), s.Queryable(), nil, deep, time.Now())
	if err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Fatalf("40,000-deep query: %v, want refused", err)
	}
	if _, err := s.Parser().ParseMetricSelector(`up{a="` + strings.Repeat("x", 70000) + `"}`); err == nil {
		t.Error("a 70 kB selector was parsed")
	}
}

// TestQuerySlots: at most cap queries hold a slot; the next waits until a
// slot frees or its context ends, and says which limit it waited for.
func TestQuerySlots(t *testing.T) {
	s := make(slots, 2)
	for range 2 {
		if _, err := s.Insert(context.Background(), "q"); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := s.Insert(ctx, "q")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "--query.max-concurrency") {
		t.Fatalf("third query: %v, want a deadline naming the limit", err)
	}
	got := make(chan error, 1)
	go func() { _, err := s.Insert(context.Background(), "q"); got <- err }()
	s.Delete(0)
	if err := <-got; err != nil {
		t.Fatalf("a freed slot was not taken: %v", err)
	}
	if s.GetMaxConcurrent() != 2 {
		t.Errorf("GetMaxConcurrent = %d", s.GetMaxConcurrent())
	}
}
