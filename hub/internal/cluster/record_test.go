package cluster

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/protobuf/proto"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
)

func TestRecordRoundTrip(t *testing.T) {
	now := time.Unix(1_790_000_000, 0).UTC()
	in := fleet.Remote{
		Record: fleet.Record{
			Key: "gpu-a@0123abcd", Hostname: "gpu-a", MachineID: "m-1", SecretHash: "hash",
			Report:    &gpumonv1.Report{Hostname: "gpu-a", GpuData: []*gpumonv1.Gpu{{Id: 0, MemoryUsed: 10}}},
			Inventory: &gpumonv1.Inventory{CpuModel: "EPYC"}, FirstSeen: now, LastSeen: now.Add(time.Second),
			Interval: 2 * time.Second, Epoch: 7, LastSeq: 42, Source: "agent", Agent: "1.0", Simulated: true,
		},
		Hub: "hub-b", Connected: true, Buffer: time.Minute, ClockOffset: 31.5, ClockSkewed: true, CanKill: true,
	}
	data, err := encode(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := decode(machineKV(in.Key), data)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(out.Report, in.Report) || !proto.Equal(out.Inventory, in.Inventory) {
		t.Errorf("report or inventory changed on the way: %v %v", out.Report, out.Inventory)
	}
	out.Report, out.Inventory, in.Report, in.Inventory = nil, nil, nil, nil
	if out != in {
		t.Errorf("decode(encode(r)) = %+v, want %+v", out, in)
	}
}

func TestRecordRefused(t *testing.T) {
	good, err := encode(fleet.Remote{Record: fleet.Record{Key: "gpu-a", Hostname: "gpu-a"}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := encode(fleet.Remote{Record: fleet.Record{Key: "gpu-b", Hostname: "gpu-a"}})
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		key  string
		data []byte
	}{
		"not zstd":            {machineKV("gpu-a"), []byte("\xff\xff\xff")},
		"not protobuf":        {machineKV("gpu-a"), zenc.EncodeAll([]byte{0x08, 0xff, 0xff}, nil)},
		"under another key":   {machineKV("gpu-x"), good},
		"key not of hostname": {machineKV("gpu-b"), other},
		"empty":               {machineKV(""), nil},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := decode(tc.key, tc.data); err == nil {
				t.Errorf("decode accepted %q under %s", tc.data, tc.key)
			}
		})
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		in   string
		safe string
		ok   bool
	}{
		{"hub-a", "hub-a", true},
		{"gpu-hub.lab.example", "gpu-hub-lab-example", false},
		{"", "hub", false},
		{"a b*>", "a-b--", false},
	} {
		if got := SafeName(tc.in); got != tc.safe || ValidName("name", got) != nil {
			t.Errorf("SafeName(%q) = %q, want %q (and valid)", tc.in, got, tc.safe)
		}
		if err := ValidName("name", tc.in); (err == nil) != tc.ok {
			t.Errorf("ValidName(%q) = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

// A record that inflates past maxRecord is refused while decompressing, not
// after taking the memory.
func TestRecordBombRefused(t *testing.T) {
	_, err := decode(machineKV("gpu-a"), zenc.EncodeAll(make([]byte, maxRecord+1), nil))
	if err == nil || !strings.Contains(err.Error(), "decompress") {
		t.Fatalf("decode of a %d-byte bomb = %v, want a decompression error", maxRecord+1, err)
	}
	if !errors.Is(err, zstd.ErrDecoderSizeExceeded) {
		t.Errorf("decode of a bomb = %v, want the size limit (zstd.ErrDecoderSizeExceeded)", err)
	}
}
