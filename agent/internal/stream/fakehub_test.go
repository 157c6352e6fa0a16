package stream

import (
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// recorder is what a fake hub remembers across restarts.
type recorder struct {
	mu       sync.Mutex
	hellos   []*gpumonv1.Hello
	seqs     []uint64
	reports  []*gpumonv1.Report
	results  []*gpumonv1.CommandResult
	commands chan *gpumonv1.Command
}

func newRecorder() *recorder { return &recorder{commands: make(chan *gpumonv1.Command, 4)} }

func (r *recorder) lastSeq() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.seqs) == 0 {
		return 0
	}
	return r.seqs[len(r.seqs)-1]
}

func (r *recorder) snapshot() ([]*gpumonv1.Hello, []uint64, []*gpumonv1.CommandResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*gpumonv1.Hello(nil), r.hellos...), append([]uint64(nil), r.seqs...), append([]*gpumonv1.CommandResult(nil), r.results...)
}

// fakeHub is a minimal AgentService on a real loopback socket.
type fakeHub struct {
	gpumonv1.UnimplementedAgentServiceServer
	rec   *recorder
	token string
	srv   *grpc.Server
	addr  string
	// issue is the machine secret given to a hello without one.
	issue string
	mu    sync.Mutex
	conns []string // hostnames of the streams it welcomed
}

func (h *fakeHub) streams() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.conns...)
}

func startFakeHub(t *testing.T, rec *recorder, addr string) *fakeHub {
	t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may linger briefly after a restart
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	h := &fakeHub{rec: rec, token: "secret-token", srv: grpc.NewServer(), addr: ln.Addr().String()}
	gpumonv1.RegisterAgentServiceServer(h.srv, h)
	go func() { _ = h.srv.Serve(ln) }()
	return h
}

func (h *fakeHub) Connect(st gpumonv1.AgentService_ConnectServer) error {
	md, _ := metadata.FromIncomingContext(st.Context())
	if auth := md.Get("authorization"); len(auth) != 1 || auth[0] != "Bearer "+h.token {
		return status.Error(codes.Unauthenticated, "bad token")
	}
	first, err := st.Recv()
	if err != nil {
		return err
	}
	h.rec.mu.Lock()
	h.rec.hellos = append(h.rec.hellos, first.GetHello())
	h.rec.mu.Unlock()
	h.mu.Lock()
	h.conns = append(h.conns, first.GetHello().GetHostname())
	h.mu.Unlock()
	welcome := &gpumonv1.Welcome{Interval: durationpb.New(50 * time.Millisecond), LastSeq: h.rec.lastSeq(), MachineKey: first.GetHello().GetHostname()}
	if first.GetHello().GetMachineSecret() == "" {
		welcome.MachineSecret = h.issue
	}
	if err := st.Send(&gpumonv1.ConnectResponse{Msg: &gpumonv1.ConnectResponse_Welcome{Welcome: welcome}}); err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() {
		for {
			select {
			case cmd := <-h.rec.commands:
				if err := st.Send(&gpumonv1.ConnectResponse{Msg: &gpumonv1.ConnectResponse_Command{Command: cmd}}); err != nil {
					errc <- err
					return
				}
			case <-st.Context().Done():
				return
			}
		}
	}()
	for {
		msg, err := st.Recv()
		if err != nil {
			return err
		}
		if s := msg.GetSnapshot(); s != nil {
			h.rec.mu.Lock()
			h.rec.seqs = append(h.rec.seqs, s.GetSeq())
			h.rec.reports = append(h.rec.reports, s.GetReport())
			h.rec.mu.Unlock()
			if err := st.Send(&gpumonv1.ConnectResponse{Msg: &gpumonv1.ConnectResponse_Ack{Ack: &gpumonv1.Ack{Seq: s.GetSeq()}}}); err != nil {
				return err
			}
		}
		if r := msg.GetCommandResult(); r != nil {
			h.rec.mu.Lock()
			h.rec.results = append(h.rec.results, r)
			h.rec.mu.Unlock()
		}
		select {
		case err := <-errc:
			return err
		default:
		}
	}
}
