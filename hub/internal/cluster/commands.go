package cluster

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/proto"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// Commands for a machine held by another hub are NATS requests to
// gpumon.<cluster>.command.<hub>; the holding hub runs them on the agent's
// stream and replies with the agent's result.

func (c *Cluster) commandSubject(hub string) string {
	return "gpumon." + c.cfg.Name + ".command." + hub
}

// serveCommands answers the commands other hubs forward to this one.
func (c *Cluster) serveCommands(nc *nats.Conn) (*nats.Subscription, error) {
	sub, err := nc.Subscribe(c.commandSubject(c.cfg.Hub), func(msg *nats.Msg) {
		go c.runCommand(msg)
	})
	if err != nil {
		return nil, err
	}
	return sub, nil
}

func (c *Cluster) runCommand(msg *nats.Msg) {
	reply := &gpumonv1.ClusterCommandReply{}
	res, err := c.runLocal(msg.Data)
	if err != nil {
		reply.Error = err.Error()
	}
	reply.Result = res
	data, _ := proto.Marshal(reply)
	_ = msg.Respond(data)
}

// runLocal runs a forwarded command on the stream this hub holds.
func (c *Cluster) runLocal(data []byte) (*gpumonv1.CommandResult, error) {
	var req gpumonv1.ClusterCommand
	if err := proto.Unmarshal(data, &req); err != nil || req.GetCommand() == nil {
		return nil, errors.New("malformed command")
	}
	m, ok := c.fleet.Get(req.GetKey())
	if !ok {
		return nil, fleet.ErrNotFound
	}
	conn := m.Conn()
	if conn == nil || conn.Forwarded {
		return nil, fleet.ErrNoAgent
	}
	ctx, cancel := context.WithTimeout(context.Background(), CommandTimeout)
	defer cancel()
	c.log.Info("command forwarded by another hub", "key", m.Key)
	return conn.Call(ctx, req.GetCommand())
}

// forwarder carries the commands for one machine held by another hub.
type forwarder struct {
	hub  string
	conn *fleet.AgentConn
}

// forwarderFor is the connection that forwards commands for r's machine to
// its hub (nil while no hub holds its stream).
func (c *Cluster) forwarderFor(r fleet.Remote) *fleet.AgentConn {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.fwd[r.Key]
	if f != nil && f.hub == r.Hub && r.Connected && f.conn.CanKill == r.CanKill {
		return f.conn
	}
	if f != nil {
		f.conn.Close()
		delete(c.fwd, r.Key)
	}
	if !r.Connected || r.Hub == "" || r.Hub == c.cfg.Hub {
		return nil
	}
	conn := fleet.NewAgentConn(r.CanKill)
	conn.Forwarded = true
	c.fwd[r.Key] = &forwarder{hub: r.Hub, conn: conn}
	go c.forward(r.Key, r.Hub, conn)
	return conn
}

// forward sends each command on conn to hub and hands back the result.
func (c *Cluster) forward(key, hub string, conn *fleet.AgentConn) {
	for {
		select {
		case <-conn.Done():
			return
		case cmd := <-conn.Out():
			id := cmd.GetRequestId()
			res, err := c.request(key, hub, cmd)
			if err != nil {
				res = &gpumonv1.CommandResult{Message: err.Error()}
			}
			res.RequestId = id
			conn.Resolve(res)
		}
	}
}

// ErrForward wraps failures to reach the holding hub.
var ErrForward = errors.New("forward command to the hub holding the machine")

func (c *Cluster) request(key, hub string, cmd *gpumonv1.Command) (*gpumonv1.CommandResult, error) {
	data, err := proto.Marshal(&gpumonv1.ClusterCommand{Key: key, Command: cmd})
	if err != nil {
		return nil, err
	}
	nc := c.nc
	if nc == nil {
		return nil, errNotReady
	}
	c.Forwarded.Add(1)
	msg, err := nc.Request(c.commandSubject(hub), data, CommandTimeout+5*time.Second)
	if err != nil {
		return nil, errors.Join(ErrForward, err)
	}
	var reply gpumonv1.ClusterCommandReply
	if err := proto.Unmarshal(msg.Data, &reply); err != nil {
		return nil, errors.Join(ErrForward, err)
	}
	if reply.GetError() != "" {
		return nil, errors.New("hub " + hub + ": " + reply.GetError())
	}
	return reply.GetResult(), nil
}

// dropForwarders ends the forwarding connections to hub.
func (c *Cluster) dropForwarders(hub string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, f := range c.fwd {
		if f.hub == hub {
			f.conn.Close()
			delete(c.fwd, k)
		}
	}
}

func (c *Cluster) closeForwarders() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, f := range c.fwd {
		f.conn.Close()
		delete(c.fwd, k)
	}
}
