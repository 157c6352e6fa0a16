package app

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// lateCtx is a context whose deadline has passed but whose timer has not
// fired yet, as on a busy machine.
type lateCtx struct {
	context.Context
	deadline time.Time
}

func (c lateCtx) Deadline() (time.Time, bool) { return c.deadline, true }

// cancelledWatch is a hub that ends every watch stream as a hub does when
// the deadline gRPC carried passes (RST_STREAM, CANCEL).
type cancelledWatch struct{ gpumonv1.FleetServiceClient }

func (cancelledWatch) Watch(context.Context, *gpumonv1.WatchRequest, ...grpc.CallOption) (grpc.ServerStreamingClient[gpumonv1.WatchResponse], error) {
	return nil, status.Error(codes.Canceled, "stream terminated by RST_STREAM with error code: CANCEL")
}

// TestWaitTimesOutWhenTheHubEndsTheStreamFirst: the hub's end of the watch
// stream at the deadline is the wait's timeout, not an error of the hub's,
// even when it comes before the wait's own timer fires.
func TestWaitTimesOutWhenTheHubEndsTheStreamFirst(t *testing.T) {
	if pastDeadline(context.Background()) || pastDeadline(lateCtx{context.Background(), time.Now().Add(time.Hour)}) {
		t.Fatal("a deadline to come, or none, taken for a past one")
	}
	ctx := lateCtx{context.Background(), time.Now().Add(-time.Millisecond)}
	if !pastDeadline(ctx) {
		t.Fatal("a past deadline not seen before its timer fired")
	}
	e := &env{}
	e.Err = io.Discard
	_, err := follow(ctx, e, cancelledWatch{}, waitPlan{})
	var ce *cliError
	if errors.As(err, &ce) {
		t.Fatalf("follow = %v: taken for the hub's error, not the timeout", err)
	}
	if status.Code(err) != codes.Canceled {
		t.Fatalf("follow = %v, want the stream's end as it came", err)
	}
}
