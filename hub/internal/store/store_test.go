package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
)

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	if recs, err := Load(dir); err != nil || len(recs) != 0 {
		t.Fatalf("empty dir: %v %v", recs, err)
	}
	at := time.Date(2026, 11, 29, 1, 2, 3, 0, time.UTC)
	in := []fleet.Record{{
		Key: "a", Hostname: "a", MachineID: "m", LastSeen: at, Epoch: 9, LastSeq: 42, Source: "agent", SecretHash: "5e0f",
		Report: &gpumonv1.Report{Hostname: "a", GpuData: []*gpumonv1.Gpu{{Id: 1, Name: "H100"}}},
	}}
	if err := Save(dir, in); err != nil {
		t.Fatal(err)
	}
	out, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].LastSeq != 42 || !out[0].LastSeen.Equal(at) || out[0].Report.GetGpuData()[0].GetName() != "H100" ||
		out[0].SecretHash != "5e0f" {
		t.Fatalf("round trip = %+v", out)
	}
}

func TestCorruptFileRefusedNotWiped(t *testing.T) {
	dir := t.TempDir()
	if err := Save(dir, []fleet.Record{{Key: "a", Hostname: "a", Report: &gpumonv1.Report{}}}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, FileName)
	data, _ := os.ReadFile(path)
	for name, bad := range map[string][]byte{
		"flipped byte": append(append([]byte{}, data[:len(data)-3]...), data[len(data)-3]^0xff, data[len(data)-2], data[len(data)-1]),
		"truncated":    data[:len(data)/2],
		"not ours":     []byte("hello"),
	} {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(path, bad, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(dir)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Load = %v, want ErrCorrupt", err)
			}
			after, _ := os.ReadFile(path)
			if string(after) != string(bad) {
				t.Error("the corrupt file was changed")
			}
		})
	}
}
