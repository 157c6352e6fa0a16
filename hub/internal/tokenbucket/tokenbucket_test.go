package tokenbucket

import (
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	t0 := time.Unix(1000, 0)
	b := New(2, 3, t0)
	for i := range 3 {
		if !b.Take(t0) {
			t.Fatalf("take %d of the burst refused", i+1)
		}
	}
	if b.Take(t0) {
		t.Fatal("a fourth take with a burst of 3")
	}
	if !b.Take(t0.Add(500 * time.Millisecond)) { // 2/s: one token back
		t.Fatal("no token after half a second at 2/s")
	}
	if b.Take(t0.Add(500 * time.Millisecond)) {
		t.Fatal("two tokens after half a second at 2/s")
	}
	if !b.Take(t0.Add(time.Hour)) || !b.Take(t0.Add(time.Hour)) || !b.Take(t0.Add(time.Hour)) || b.Take(t0.Add(time.Hour)) {
		t.Fatal("an hour's refill must stop at the burst")
	}
}

func TestClockSteppingBack(t *testing.T) {
	t0 := time.Unix(1000, 0)
	b := New(1, 1, t0)
	if !b.Take(t0) {
		t.Fatal("full bucket refused")
	}
	if b.Take(t0.Add(-time.Hour)) {
		t.Error("a clock stepping back refilled the bucket")
	}
	if b.Take(t0.Add(500 * time.Millisecond)) {
		t.Error("half a token taken")
	}
	if !b.Take(t0.Add(time.Second)) {
		t.Error("no token a second after the last")
	}
}
