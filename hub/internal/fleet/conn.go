package fleet

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// ErrStreamClosed is returned for commands on a stream that has ended.
var ErrStreamClosed = errors.New("agent stream closed")

// AgentConn routes commands to one agent stream and their results back.
type AgentConn struct {
	// CanKill: the agent announced the "kill" capability.
	CanKill bool
	// Forwarded: the stream is held by another hub of the cluster; commands
	// reach it through that hub.
	Forwarded bool

	out     chan *gpumonv1.Command
	done    chan struct{}
	once    sync.Once
	nextID  atomic.Uint64
	mu      sync.Mutex
	pending map[string]chan *gpumonv1.CommandResult
}

// NewAgentConn returns a connection whose commands are read from Out.
func NewAgentConn(canKill bool) *AgentConn {
	return &AgentConn{
		CanKill: canKill,
		out:     make(chan *gpumonv1.Command, 16),
		done:    make(chan struct{}),
		pending: map[string]chan *gpumonv1.CommandResult{},
	}
}

// Out delivers commands for the stream to send.
func (c *AgentConn) Out() <-chan *gpumonv1.Command { return c.out }

// Done is closed when the connection is closed.
func (c *AgentConn) Done() <-chan struct{} { return c.done }

// Close fails every pending and future command.
func (c *AgentConn) Close() { c.once.Do(func() { close(c.done) }) }

// Call sends cmd (its request id is assigned here) and waits for the result.
func (c *AgentConn) Call(ctx context.Context, cmd *gpumonv1.Command) (*gpumonv1.CommandResult, error) {
	id := strconv.FormatUint(c.nextID.Add(1), 10)
	cmd.RequestId = id
	ch := make(chan *gpumonv1.CommandResult, 1)
	c.mu.Lock()
	c.pending[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()
	select {
	case c.out <- cmd:
	case <-c.done:
		return nil, ErrStreamClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case res := <-ch:
		return res, nil
	case <-c.done:
		return nil, ErrStreamClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Resolve hands a result to the command waiting for it. Results for unknown
// or expired request ids are dropped.
func (c *AgentConn) Resolve(res *gpumonv1.CommandResult) bool {
	c.mu.Lock()
	ch, ok := c.pending[res.GetRequestId()]
	c.mu.Unlock()
	if ok {
		select {
		case ch <- res:
		default:
		}
	}
	return ok
}
