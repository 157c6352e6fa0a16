package service

import (
	"context"
	"sync/atomic"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// outbox is the only sender on an agent stream after Welcome. Acks are
// cumulative, so a burst of them collapses into the latest one: an agent
// that stops reading costs the hub one pending ack, not a growing queue.
type outbox struct {
	acked  atomic.Uint64
	notify chan struct{}
}

func newOutbox() *outbox { return &outbox{notify: make(chan struct{}, 1)} }

func (o *outbox) ack(seq uint64) {
	for {
		cur := o.acked.Load()
		if seq <= cur || o.acked.CompareAndSwap(cur, seq) {
			break
		}
	}
	select {
	case o.notify <- struct{}{}:
	default:
	}
}

func (o *outbox) run(ctx context.Context, stream gpumonv1.AgentService_ConnectServer, conn *fleet.AgentConn) error {
	var sent uint64
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-o.notify:
			seq := o.acked.Load()
			if seq <= sent {
				continue
			}
			if err := stream.Send(&gpumonv1.ConnectResponse{Msg: &gpumonv1.ConnectResponse_Ack{Ack: &gpumonv1.Ack{Seq: seq}}}); err != nil {
				return err
			}
			sent = seq
		case cmd := <-conn.Out():
			if err := stream.Send(&gpumonv1.ConnectResponse{Msg: &gpumonv1.ConnectResponse_Command{Command: cmd}}); err != nil {
				return err
			}
		}
	}
}
