// Package store keeps the fleet registry (every machine and its last-known
// state) in the hub's data directory, so that it survives a restart.
//
// The file is written whole and atomically (temporary file, fsync, rename),
// with a magic header and a CRC-32 checksum. A file that fails either check
// is never overwritten: the hub refuses to start and says how to proceed.
package store

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/protobuf/proto"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/fleet"
)

// FileName is the registry file inside the data directory.
const FileName = "registry.bin"

// The file starts with one of two magic lines. Version 2 (written now):
// the records as a stream of gob values, one per machine, then the CRC-32
// of that stream (4 bytes, big-endian). Version 1 (written by older hubs,
// still read): the CRC-32 first, then all records as one gob value, which
// had to be built whole in memory (for a thousand machines, a hundred
// megabytes copied several times over every save).
var (
	magic   = []byte("GPUMONREG2\n")
	magicV1 = []byte("GPUMONREG1\n")
)

// ErrCorrupt is wrapped when the registry file cannot be read back.
var ErrCorrupt = errors.New("registry file is corrupt")

// record is the file's layout of a fleet.Record: the same fields, with the
// report and inventory as protobuf bytes (gob cannot encode generated
// messages). Field names are the format: files written by older hubs load by
// name. TestSaveLoadKeepsEveryField fails when fleet.Record gains a field
// this type does not carry.
type record struct {
	Key, Hostname, MachineID string
	Report, Inventory        []byte
	FirstSeen, LastSeen      time.Time
	SampleTime               time.Time
	Interval                 time.Duration
	Epoch, LastSeq           uint64
	Source, Agent            string
	Simulated                bool
	// SecretHash is absent from files written before machine secrets.
	SecretHash string
}

// Save writes recs to dir/registry.bin atomically.
func Save(dir string, recs []fleet.Record) error {
	return writeAtomic(filepath.Join(dir, FileName), func(w io.Writer) error {
		if _, err := w.Write(magic); err != nil {
			return err
		}
		sum := crc32.NewIEEE()
		enc := gob.NewEncoder(io.MultiWriter(w, sum))
		var rep, inv []byte
		for _, r := range recs {
			var err error
			if rep, err = marshal.MarshalAppend(rep[:0], r.Report); err != nil {
				return fmt.Errorf("encode report of %s: %w", r.Key, err)
			}
			if inv, err = marshal.MarshalAppend(inv[:0], r.Inventory); err != nil {
				return fmt.Errorf("encode inventory of %s: %w", r.Key, err)
			}
			if err := enc.Encode(record{
				Key: r.Key, Hostname: r.Hostname, MachineID: r.MachineID, Report: rep, Inventory: inv,
				FirstSeen: r.FirstSeen, LastSeen: r.LastSeen, SampleTime: r.SampleTime, Interval: r.Interval,
				Epoch: r.Epoch, LastSeq: r.LastSeq, Source: r.Source, Agent: r.Agent, Simulated: r.Simulated,
				SecretHash: r.SecretHash,
			}); err != nil {
				return fmt.Errorf("encode registry: %w", err)
			}
		}
		return binary.Write(w, binary.BigEndian, sum.Sum32())
	})
}

var marshal = proto.MarshalOptions{}

// Load reads dir/registry.bin. A missing file is an empty registry.
func Load(dir string) ([]fleet.Record, error) {
	path := filepath.Join(dir, FileName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read registry: %w", err)
	}
	recs, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v; the hub will not overwrite it: move it aside to start with an empty registry, or restore it from a backup", ErrCorrupt, path, err)
	}
	return recs, nil
}

func decode(data []byte) ([]fleet.Record, error) {
	var in []record
	switch {
	case bytes.HasPrefix(data, magic) && len(data) >= len(magic)+4:
		body := data[len(magic) : len(data)-4]
		if crc32.ChecksumIEEE(body) != binary.BigEndian.Uint32(data[len(data)-4:]) {
			return nil, errors.New("checksum mismatch")
		}
		dec := gob.NewDecoder(bytes.NewReader(body))
		for {
			var r record
			err := dec.Decode(&r)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("decode: %w", err)
			}
			in = append(in, r)
		}
	case bytes.HasPrefix(data, magicV1) && len(data) >= len(magicV1)+4:
		data = data[len(magicV1):]
		body := data[4:]
		if crc32.ChecksumIEEE(body) != binary.BigEndian.Uint32(data[:4]) {
			return nil, errors.New("checksum mismatch")
		}
		if err := gob.NewDecoder(bytes.NewReader(body)).Decode(&in); err != nil {
			return nil, fmt.Errorf("decode: %w", err)
		}
	default:
		return nil, errors.New("not a gpumon registry file (bad header)")
	}
	out := make([]fleet.Record, 0, len(in))
	for _, r := range in {
		rep, inv := new(gpumonv1.Report), new(gpumonv1.Inventory)
		if err := proto.Unmarshal(r.Report, rep); err != nil {
			return nil, fmt.Errorf("decode report of %s: %w", r.Key, err)
		}
		if err := proto.Unmarshal(r.Inventory, inv); err != nil {
			return nil, fmt.Errorf("decode inventory of %s: %w", r.Key, err)
		}
		out = append(out, fleet.Record{
			Key: r.Key, Hostname: r.Hostname, MachineID: r.MachineID, Report: rep, Inventory: inv,
			FirstSeen: r.FirstSeen, LastSeen: r.LastSeen, SampleTime: r.SampleTime, Interval: r.Interval,
			Epoch: r.Epoch, LastSeq: r.LastSeq, Source: r.Source, Agent: r.Agent, Simulated: r.Simulated,
			SecretHash: r.SecretHash,
		})
	}
	return out, nil
}

// writeAtomic replaces path with data: temporary file, fsync, rename, fsync
// of the directory.
func writeAtomic(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".registry-*.tmp")
	if err != nil {
		return fmt.Errorf("write registry: %w", err)
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriterSize(tmp, 256<<10)
	if err := write(bw); err != nil {
		tmp.Close()
		return fmt.Errorf("write registry: %w", err)
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("write registry: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync registry: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write registry: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace registry: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
