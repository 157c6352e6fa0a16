package cluster

import (
	"errors"
	"fmt"
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

// dgx is a busy DGX's record: 8 GPUs, 300 processes with command lines.
func dgx() fleet.Remote {
	r := &gpumonv1.Report{Hostname: "dgx-01", SystemInfo: &gpumonv1.SystemInfo{CpuPercent: 41.5, MemoryTotal: 2 << 40}}
	for i := range 8 {
		r.GpuData = append(r.GpuData, &gpumonv1.Gpu{Id: int32(i), Name: "NVIDIA H100 80GB HBM3", MemoryTotal: 81559, MemoryUsed: uint32(1000 * i),
			Uuid: fmt.Sprintf("GPU-%08x-1111-2222-3333-444455556666", i), Temperature: proto.Uint32(uint32(40 + i))})
	}
	for p := range 300 {
		r.SystemInfo.Processes = append(r.SystemInfo.Processes, &gpumonv1.Process{
			Pid: int32(1000 + p), Name: "python", Username: fmt.Sprintf("user%d", p%7), CpuPercent: float64(p%97) / 3,
			Cmdline: fmt.Sprintf("python train.py --model llama-%db --batch-size %d --lr 3e-4 --output /data/runs/%d", p%70, 8*(p%9), p),
		})
	}
	return fleet.Remote{Record: fleet.Record{Key: "dgx-01", Hostname: "dgx-01", Report: r, Epoch: 1, LastSeq: 9}, Hub: "hub-a", Connected: true}
}

// BenchmarkRecord measures what a hub spends on one record: encoding it
// where the machine is held, decoding it on every other hub.
func BenchmarkRecord(b *testing.B) {
	r := dgx()
	data, err := encode(r)
	if err != nil {
		b.Fatal(err)
	}
	raw, _ := proto.Marshal(r.Report)
	b.Logf("record: %d bytes (report %d bytes of protobuf)", len(data), len(raw))
	b.Run("encode", func(b *testing.B) {
		for b.Loop() {
			if _, err := encode(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			if _, err := decode(machineKV("dgx-01"), data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
