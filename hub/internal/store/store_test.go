package store

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
	"google.golang.org/protobuf/proto"
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

// TestSaveLoadKeepsEveryField fills every field of fleet.Record, those
// added after this test was written included, and wants each back after a
// save and a load: the file's record mirrors fleet.Record, and a field
// added to one and not the other would be lost at the next restart.
func TestSaveLoadKeepsEveryField(t *testing.T) {
	var in fleet.Record
	v := reflect.ValueOf(&in).Elem()
	at := time.Date(2026, 11, 29, 1, 2, 3, 0, time.UTC)
	for i := range v.NumField() {
		f, name := v.Field(i), v.Type().Field(i).Name
		switch x := f.Addr().Interface().(type) {
		case *string:
			*x = "value of " + name
		case *uint64:
			*x = uint64(1000 + i)
		case *bool:
			*x = true
		case *time.Time:
			*x = at.Add(time.Duration(i) * time.Minute)
		case *time.Duration:
			*x = time.Duration(i+1) * time.Second
		case **gpumonv1.Report:
			*x = &gpumonv1.Report{Hostname: "h", GpuData: []*gpumonv1.Gpu{{Id: 1, Name: "H100"}}}
		case **gpumonv1.Inventory:
			*x = &gpumonv1.Inventory{DriverVersion: "580.65", CudaVersion: "13.0"}
		default:
			t.Fatalf("fleet.Record.%s has a type (%s) this test cannot fill: teach it, and the store, the new field", name, f.Type())
		}
	}
	dir := t.TempDir()
	if err := Save(dir, []fleet.Record{in}); err != nil {
		t.Fatal(err)
	}
	out, err := Load(dir)
	if err != nil || len(out) != 1 {
		t.Fatalf("Load = %v, %v", out, err)
	}
	got := reflect.ValueOf(out[0])
	for i := range v.NumField() {
		name, want, have := v.Type().Field(i).Name, v.Field(i).Interface(), got.Field(i).Interface()
		if m, ok := want.(proto.Message); ok {
			if !proto.Equal(m, have.(proto.Message)) {
				t.Errorf("%s after a restart = %v, want %v", name, have, want)
			}
			continue
		}
		if t1, ok := want.(time.Time); ok && t1.Equal(have.(time.Time)) {
			continue
		}
		if !reflect.DeepEqual(want, have) {
			t.Errorf("%s after a restart = %v, want %v", name, have, want)
		}
	}
}
