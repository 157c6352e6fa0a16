package store

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/crc32"
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

// saveV1 writes a registry as hubs before format 2 did: the CRC first, then
// every record in one gob value built in memory.
func saveV1(dir string, recs []fleet.Record) error {
	out := make([]record, 0, len(recs))
	for _, r := range recs {
		rep, _ := proto.Marshal(r.Report)
		inv, _ := proto.Marshal(r.Inventory)
		out = append(out, record{Key: r.Key, Hostname: r.Hostname, MachineID: r.MachineID, Report: rep, Inventory: inv,
			FirstSeen: r.FirstSeen, LastSeen: r.LastSeen, SampleTime: r.SampleTime, Interval: r.Interval,
			Epoch: r.Epoch, LastSeq: r.LastSeq, Source: r.Source, Agent: r.Agent, Simulated: r.Simulated, SecretHash: r.SecretHash})
	}
	var body bytes.Buffer
	if err := gob.NewEncoder(&body).Encode(out); err != nil {
		return err
	}
	var file bytes.Buffer
	file.Write(magicV1)
	_ = binary.Write(&file, binary.BigEndian, crc32.ChecksumIEEE(body.Bytes()))
	file.Write(body.Bytes())
	return os.WriteFile(filepath.Join(dir, FileName), file.Bytes(), 0o600)
}

// bigFleet is n machines of 300 processes each.
func bigFleet(n int) []fleet.Record {
	recs := make([]fleet.Record, n)
	for i := range recs {
		rep := &gpumonv1.Report{Hostname: fmt.Sprintf("node-%04d", i), SystemInfo: &gpumonv1.SystemInfo{}}
		for p := range 300 {
			rep.SystemInfo.Processes = append(rep.SystemInfo.Processes, &gpumonv1.Process{Pid: int32(p + 1), Name: "python",
				Cmdline: fmt.Sprintf("/usr/bin/python3 /home/user%d/train.py --seed %d --data /data/shard-%05d", i, p, i*p)})
		}
		recs[i] = fleet.Record{Key: rep.Hostname, Hostname: rep.Hostname, MachineID: fmt.Sprintf("%032x", i), Report: rep,
			Inventory: &gpumonv1.Inventory{Os: "Debian"}, LastSeq: uint64(i), Epoch: 1, LastSeen: time.Unix(int64(1e9+i), 0).UTC()}
	}
	return recs
}

// TestLoadsVersion1Files: a registry written by an older hub loads, every
// record whole; the next save writes format 2, which loads the same.
func TestLoadsVersion1Files(t *testing.T) {
	dir := t.TempDir()
	in := bigFleet(3)
	if err := saveV1(dir, in); err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{"format 1", "format 2"} {
		out, err := Load(dir)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if len(out) != len(in) {
			t.Fatalf("%s: %d records, want %d", step, len(out), len(in))
		}
		for i := range in {
			if !proto.Equal(out[i].Report, in[i].Report) || !proto.Equal(out[i].Inventory, in[i].Inventory) ||
				out[i].Key != in[i].Key || out[i].LastSeq != in[i].LastSeq || !out[i].LastSeen.Equal(in[i].LastSeen) {
				t.Fatalf("%s: record %d = %+v", step, i, out[i])
			}
		}
		if err := Save(dir, out); err != nil {
			t.Fatal(err)
		}
		if data, _ := os.ReadFile(filepath.Join(dir, FileName)); !bytes.HasPrefix(data, magic) {
			t.Fatalf("%s: saved as %q", step, data[:len(magic)])
		}
	}
}

// BenchmarkSave: a registry of 1,000 machines of 300 processes written in
// format 1 (one gob value built whole in memory) and format 2 (streamed).
func BenchmarkSave(b *testing.B) {
	recs := bigFleet(1000)
	for _, c := range []struct {
		name string
		save func(string, []fleet.Record) error
	}{{"format1", saveV1}, {"format2", Save}} {
		b.Run(c.name, func(b *testing.B) {
			dir := b.TempDir()
			b.ReportAllocs()
			for b.Loop() {
				if err := c.save(dir, recs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
