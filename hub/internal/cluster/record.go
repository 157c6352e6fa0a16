package cluster

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// Keys in the bucket: "m.<machine key, base64url>". Machine keys hold '@'
// and other characters NATS keys do not allow; base64url is within what
// they allow.
const machinePrefix = "m."

func machineKV(key string) string {
	return machinePrefix + base64.RawURLEncoding.EncodeToString([]byte(key))
}

// Records are zstd-compressed protobuf: a DGX's report with 300 processes
// is 57 KB of protobuf, 13 KB in zstd (17 KB in snappy). Decoding is bounded,
// so a record cannot inflate into more than a report may hold.
var (
	zenc, _ = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	zdec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxRecord))
)

// maxRecord bounds a decompressed record.
const maxRecord = 64 << 20

// encode is a machine's record on the wire: protobuf, zstd-compressed.
func encode(r fleet.Remote) ([]byte, error) {
	msg := &gpumonv1.ClusterMachine{
		Key: r.Key, Hostname: r.Hostname, MachineId: r.MachineID, SecretHash: r.SecretHash,
		Epoch: r.Epoch, AckedSeq: r.LastSeq, Holder: r.Hub, Connected: r.Connected,
		Report: r.Report, Inventory: r.Inventory,
		FirstSeen: ts(r.FirstSeen), LastSeen: ts(r.LastSeen), SampleTime: ts(r.SampleTime),
		Interval: durationpb.New(r.Interval), Buffer: durationpb.New(r.Buffer),
		ClockOffset: r.ClockOffset, ClockSkewed: r.ClockSkewed, Source: r.Source, CanKill: r.CanKill,
		Simulated: r.Simulated, AgentVersion: r.Agent,
	}
	data, err := proto.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("encode record of %s: %w", r.Key, err)
	}
	return zenc.EncodeAll(data, nil), nil
}

// decode reads a record; a record that does not decode, or whose key is not
// the one it is stored under, is refused.
func decode(kvKey string, data []byte) (fleet.Remote, error) {
	raw, err := zdec.DecodeAll(data, nil)
	if err != nil {
		return fleet.Remote{}, fmt.Errorf("decompress record %s: %w", kvKey, err)
	}
	var msg gpumonv1.ClusterMachine
	if err := proto.Unmarshal(raw, &msg); err != nil {
		return fleet.Remote{}, fmt.Errorf("decode record %s: %w", kvKey, err)
	}
	if machineKV(msg.GetKey()) != kvKey || msg.GetHostname() == "" || !strings.HasPrefix(msg.GetKey(), msg.GetHostname()) {
		return fleet.Remote{}, fmt.Errorf("record %s: key %q does not match", kvKey, msg.GetKey())
	}
	return fleet.Remote{
		Record: fleet.Record{
			Key: msg.GetKey(), Hostname: msg.GetHostname(), MachineID: msg.GetMachineId(),
			Report: msg.GetReport(), Inventory: msg.GetInventory(),
			FirstSeen: when(msg.GetFirstSeen()), LastSeen: when(msg.GetLastSeen()), SampleTime: when(msg.GetSampleTime()),
			Interval: msg.GetInterval().AsDuration(), Epoch: msg.GetEpoch(), LastSeq: msg.GetAckedSeq(),
			Source: msg.GetSource(), Agent: msg.GetAgentVersion(), Simulated: msg.GetSimulated(), SecretHash: msg.GetSecretHash(),
		},
		Hub: msg.GetHolder(), Connected: msg.GetConnected(), Buffer: msg.GetBuffer().AsDuration(),
		ClockOffset: msg.GetClockOffset(), ClockSkewed: msg.GetClockSkewed(), CanKill: msg.GetCanKill(),
	}, nil
}

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func when(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime()
}
