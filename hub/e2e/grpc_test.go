package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// rawCodec sends []byte as is, to put arbitrary bytes on the wire.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error)   { return v.([]byte), nil }
func (rawCodec) Unmarshal(b []byte, v any) error { *(v.(*[]byte)) = b; return nil }
func (rawCodec) Name() string                    { return "proto" }

func dialHub(t *testing.T, h *hub) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(h.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(64<<20)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func withToken(ctx context.Context, tok string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
}

// streamCode opens a stream, sends msgs, closes its side and returns the
// status the stream ends with.
func streamCode(t *testing.T, conn *grpc.ClientConn, token string, msgs ...*gpumonv1.ConnectRequest) (codes.Code, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if token != "" {
		ctx = withToken(ctx, token)
	}
	st, err := gpumonv1.NewAgentServiceClient(conn).Connect(ctx)
	if err != nil {
		return status.Code(err), err.Error()
	}
	for _, m := range msgs {
		if err := st.Send(m); err != nil {
			break
		}
	}
	_ = st.CloseSend() // a stream the hub accepts to its end closes cleanly
	for {
		if _, err := st.Recv(); err != nil {
			return status.Code(err), status.Convert(err).Message()
		}
	}
}

func hello(host string) *gpumonv1.ConnectRequest {
	return &gpumonv1.ConnectRequest{Msg: &gpumonv1.ConnectRequest_Hello{Hello: &gpumonv1.Hello{Hostname: host, MachineId: "m-" + host, Epoch: 1}}}
}

func snapshot(seq uint64, cpu float64) *gpumonv1.ConnectRequest {
	return &gpumonv1.ConnectRequest{Msg: &gpumonv1.ConnectRequest_Snapshot{Snapshot: &gpumonv1.Snapshot{
		Seq: seq, Report: &gpumonv1.Report{Timestamp: timestamppb.Now(), SystemInfo: &gpumonv1.SystemInfo{CpuPercent: cpu}},
	}}}
}

func TestHostileAgents(t *testing.T) {
	// A burst limit above the 20,000 snapshots of the deaf agent below; the
	// default limit has its own test.
	h := newHub(t, "--max-snapshot-burst", "50000", "--max-snapshot-rate", "1000")
	startAgent(t, h, "e2e-good", "rtx4090x4")
	waitFor(t, "good agent online", 20*time.Second, func() bool { _, on := online(t, h.http, "e2e-good"); return on })
	conn := dialHub(t, h)

	tests := []struct {
		name  string
		token string
		msgs  []*gpumonv1.ConnectRequest
		code  codes.Code
		msg   string
	}{
		{"no token", "", []*gpumonv1.ConnectRequest{hello("h1")}, codes.Unauthenticated, "missing bearer token"},
		{"wrong token", "not-the-token", []*gpumonv1.ConnectRequest{hello("h1")}, codes.Unauthenticated, "invalid token"},
		{"snapshot before hello", agentToken, []*gpumonv1.ConnectRequest{snapshot(1, 0)}, codes.InvalidArgument, "must be hello"},
		{"bad hostname", agentToken, []*gpumonv1.ConnectRequest{hello("a b/c")}, codes.InvalidArgument, "hostname"},
		{"seq 0", agentToken, []*gpumonv1.ConnectRequest{hello("h2"), snapshot(0, 1)}, codes.InvalidArgument, "sequence number"},
		{"hello twice", agentToken, []*gpumonv1.ConnectRequest{hello("h3"), hello("h3")}, codes.InvalidArgument, "twice"},
		{"empty message", agentToken, []*gpumonv1.ConnectRequest{hello("h4"), {}}, codes.InvalidArgument, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, msg := streamCode(t, conn, tt.token, tt.msgs...)
			if code != tt.code || !strings.Contains(msg, tt.msg) {
				t.Errorf("stream ended with %v %q, want %v containing %q", code, msg, tt.code, tt.msg)
			}
		})
	}

	t.Run("garbage bytes", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(withToken(context.Background(), agentToken), 10*time.Second)
		defer cancel()
		desc := &grpc.StreamDesc{StreamName: "Connect", ServerStreams: true, ClientStreams: true}
		st, err := conn.NewStream(ctx, desc, "/gpumon.v1.AgentService/Connect", grpc.ForceCodec(rawCodec{}))
		if err != nil {
			t.Fatal(err)
		}
		_ = st.SendMsg([]byte("\xff\xff\xff\xff not a protobuf message \x00\x01"))
		var out []byte
		err = st.RecvMsg(&out)
		if c := status.Code(err); c != codes.Internal && c != codes.InvalidArgument {
			t.Errorf("garbage: stream ended with %v (%v), want a refusal", c, err)
		}
	})

	t.Run("oversized message", func(t *testing.T) {
		huge := snapshot(1, 0)
		huge.GetSnapshot().Report.AgentVersion = strings.Repeat("x", 10<<20)
		code, _ := streamCode(t, conn, agentToken, hello("h5"), huge)
		if code != codes.ResourceExhausted {
			t.Errorf("10 MB message: %v, want ResourceExhausted", code)
		}
	})

	t.Run("agent that never reads acks", func(t *testing.T) {
		ctx, cancel := context.WithCancel(withToken(context.Background(), agentToken))
		defer cancel()
		st, err := gpumonv1.NewAgentServiceClient(conn).Connect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Send(hello("e2e-deaf")); err != nil {
			t.Fatal(err)
		}
		const n = 20000
		for seq := uint64(1); seq <= n; seq++ {
			if err := st.Send(snapshot(seq, float64(seq)/1000)); err != nil {
				t.Fatalf("send %d: %v", seq, err)
			}
		}
		// Every snapshot was ingested although the acks were never read.
		waitFor(t, "the last snapshot", 20*time.Second, func() bool {
			m, ok := machines(t, h.http)["e2e-deaf"].(map[string]any)
			return ok && fmt.Sprint(m["system_info"].(map[string]any)["cpu_percent"]) == fmt.Sprint(n/1000)
		})
	})

	// Through all of it the well-behaved agent stayed online and current.
	before := machines(t, h.http)["e2e-good"].(map[string]any)["timestamp"]
	waitFor(t, "a fresh sample from the good agent", 10*time.Second, func() bool {
		m := machines(t, h.http)["e2e-good"].(map[string]any)
		return m["is_online"] == true && m["timestamp"] != before
	})
}

func TestFloodingAgentIsShed(t *testing.T) {
	h := newHub(t, "--max-snapshot-rate", "5", "--max-snapshot-burst", "50")
	startAgent(t, h, "e2e-calm", "rtx4090x4")
	waitFor(t, "calm agent online", 20*time.Second, func() bool { _, on := online(t, h.http, "e2e-calm"); return on })
	conn := dialHub(t, h)
	msgs := []*gpumonv1.ConnectRequest{hello("e2e-flood")}
	for seq := uint64(1); seq <= 500; seq++ {
		msgs = append(msgs, snapshot(seq, 1))
	}
	code, msg := streamCode(t, conn, agentToken, msgs...)
	if code != codes.ResourceExhausted || !strings.Contains(msg, "slow down") {
		t.Fatalf("flooding stream ended with %v %q, want ResourceExhausted", code, msg)
	}
	metrics := getText(t, h.http+"/metrics")
	if !strings.Contains(metrics, `gpumon_hub_shed_total{what="streams"} 1`) {
		t.Errorf("/metrics does not count the shed stream")
	}
	before := machines(t, h.http)["e2e-calm"].(map[string]any)["timestamp"]
	waitFor(t, "the calm agent still served", 10*time.Second, func() bool {
		m := machines(t, h.http)["e2e-calm"].(map[string]any)
		return m["is_online"] == true && m["timestamp"] != before
	})
}

func TestSameHostnameOtherMachineIsAConflictNotAMerge(t *testing.T) {
	h := newHub(t)
	conn := dialHub(t, h)
	ctx, cancel := context.WithCancel(withToken(context.Background(), agentToken))
	defer cancel()
	for i, id := range []string{"aaaaaaaaaaaa", "bbbbbbbbbbbb"} {
		st, err := gpumonv1.NewAgentServiceClient(conn).Connect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		hello := &gpumonv1.ConnectRequest{Msg: &gpumonv1.ConnectRequest_Hello{Hello: &gpumonv1.Hello{Hostname: "e2e-twin", MachineId: id, Epoch: 1}}}
		if err := st.Send(hello); err != nil {
			t.Fatal(err)
		}
		// The second machine replays seq 1..3 as if it were the first.
		for seq := uint64(1); seq <= 3; seq++ {
			if err := st.Send(snapshot(seq, float64(len(id)+int(seq)))); err != nil {
				t.Fatal(err)
			}
		}
		if i == 0 { // the first machine is known before the second arrives
			waitFor(t, "the first machine", 10*time.Second, func() bool { _, ok := machines(t, h.http)["e2e-twin"]; return ok })
		}
	}
	var list struct {
		Machines []struct {
			Key              string
			MachineID        string `json:"machine_id"`
			HostnameConflict bool   `json:"hostname_conflict"`
		}
	}
	waitFor(t, "both machines listed", 10*time.Second, func() bool {
		resp, err := http.Get(h.http + "/api/v1/machines")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		_ = json.NewDecoder(resp.Body).Decode(&list)
		return len(list.Machines) == 2
	})
	keys := []string{}
	for _, m := range list.Machines {
		keys = append(keys, m.Key)
		if !m.HostnameConflict {
			t.Errorf("%s is not marked as a hostname conflict", m.Key)
		}
	}
	// The second key names the machine by its fingerprint, never by its id.
	if want := "e2e-twin,e2e-twin@" + fleet.Fingerprint("bbbbbbbbbbbb")[:8]; strings.Join(keys, ",") != want {
		t.Errorf("keys = %v, want %s", keys, want)
	}
	for _, m := range list.Machines {
		if m.MachineID != "" {
			t.Errorf("%s publishes its machine id %q", m.Key, m.MachineID)
		}
	}
}
