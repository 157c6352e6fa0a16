package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// handAgent is an agent written by hand on a real gRPC stream: it says what
// the test wants (forged identities, clocks) and answers kill commands as an
// impostor would.
type handAgent struct {
	t       *testing.T
	st      gpumonv1.AgentService_ConnectClient
	cancel  context.CancelFunc
	welcome *gpumonv1.Welcome
	sendMu  sync.Mutex
	mu      sync.Mutex
	acked   uint64
	cmds    []*gpumonv1.Command
	ended   chan struct{}
}

// helloFor is a hello for hostname at a 1 s interval.
func helloFor(hostname, machineID string) *gpumonv1.Hello {
	return &gpumonv1.Hello{Hostname: hostname, MachineId: machineID, Epoch: 1, Interval: durationpb.New(time.Second)}
}

// connectHand opens a stream, says hello and waits for the welcome.
func connectHand(t *testing.T, h *hub, hello *gpumonv1.Hello) *handAgent {
	t.Helper()
	ctx, cancel := context.WithCancel(withToken(context.Background(), h.agentToken))
	st, err := gpumonv1.NewAgentServiceClient(dialHub(t, h)).Connect(ctx)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	a := &handAgent{t: t, st: st, cancel: cancel, ended: make(chan struct{})}
	t.Cleanup(a.close)
	if err := st.Send(&gpumonv1.ConnectRequest{Msg: &gpumonv1.ConnectRequest_Hello{Hello: hello}}); err != nil {
		t.Fatal(err)
	}
	first, err := st.Recv()
	if err != nil || first.GetWelcome() == nil {
		t.Fatalf("hello answered with %v, %v", first, err)
	}
	a.welcome = first.GetWelcome()
	go a.read()
	return a
}

func (a *handAgent) read() {
	defer close(a.ended)
	for {
		msg, err := a.st.Recv()
		if err != nil {
			return
		}
		a.mu.Lock()
		if ack := msg.GetAck(); ack != nil {
			a.acked = max(a.acked, ack.GetSeq())
		}
		cmd := msg.GetCommand()
		if cmd != nil {
			a.cmds = append(a.cmds, cmd)
		}
		a.mu.Unlock()
		if cmd.GetKill() != nil {
			a.sendMsg(&gpumonv1.ConnectRequest{Msg: &gpumonv1.ConnectRequest_CommandResult{CommandResult: &gpumonv1.CommandResult{
				RequestId: cmd.GetRequestId(), Ok: true, Message: "FAKE: impersonator says killed"}}})
		}
	}
}

func (a *handAgent) sendMsg(m *gpumonv1.ConnectRequest) error {
	a.sendMu.Lock()
	defer a.sendMu.Unlock()
	return a.st.Send(m)
}

// send sends snapshot seq stamped at, with one GPU named gpuName.
func (a *handAgent) send(seq uint64, at time.Time, gpuName string) {
	a.t.Helper()
	r := &gpumonv1.Report{
		Timestamp:  timestamppb.New(at),
		GpuData:    []*gpumonv1.Gpu{{Id: 0, Name: gpuName, Uuid: "GPU-hand-0", Utilization: proto.Uint32(50), MemoryUsed: 1000, MemoryTotal: 80000}},
		SystemInfo: &gpumonv1.SystemInfo{CpuPercent: 12},
	}
	if err := a.sendMsg(&gpumonv1.ConnectRequest{Msg: &gpumonv1.ConnectRequest_Snapshot{Snapshot: &gpumonv1.Snapshot{Seq: seq, Report: r}}}); err != nil {
		a.t.Fatalf("send snapshot %d: %v", seq, err)
	}
}

func (a *handAgent) ackedUpTo() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.acked
}

func (a *handAgent) commands() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.cmds)
}

func (a *handAgent) waitAcked(seq uint64) {
	a.t.Helper()
	waitFor(a.t, "acknowledgement", 20*time.Second, func() bool { return a.ackedUpTo() >= seq })
}

func (a *handAgent) close() {
	a.cancel()
	<-a.ended
}

// localMachineID is the machine id an agent on this machine reports: the
// contents of /etc/machine-id (the agent's first choice).
func localMachineID(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/etc/machine-id")
	if id := strings.TrimSpace(string(b)); err == nil && id != "" {
		return id
	}
	t.Skip("no /etc/machine-id here: the test cannot know the id the agent reports")
	return ""
}

// postJSON posts body as application/json (as the original collector does).
func postJSON(t *testing.T, url, token, body string) (int, any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v any
	_ = json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}

// rawSamples returns the raw samples (time, value) of the one series expr
// selects over the last hour, as of at.
func rawSamples(t *testing.T, base, expr string, at time.Time) [][2]any {
	t.Helper()
	r := promQuery(t, base, expr+"[1h]", at)
	if len(r.Data.Result) == 0 {
		return nil
	}
	if len(r.Data.Result) > 1 {
		t.Fatalf("%s selects %d series, want 1", expr, len(r.Data.Result))
	}
	return r.Data.Result[0].Values
}
