// Package wirejson is gpumon's JSON form of its protobuf messages.
//
// It differs from canonical protojson where the documented REST API needs it:
//   - field names are the proto field names (two of which are camelCase);
//   - every field is written, and an unset optional scalar or message is null;
//   - every number is a JSON number (64-bit integers included), and NaN or an
//     infinity becomes null;
//   - timestamps are RFC 3339 strings in UTC, durations protojson-style ("1.5s");
//   - output is deterministic: fields in declaration order, map keys sorted.
//
// AppendDocumented is the form of the original system's routes: every
// documented field is written as above (null included), and a field beyond
// the documented shape is left out while it holds no value.
package wirejson

import (
	"encoding/base64"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"google.golang.org/protobuf/proto"
)

const (
	timestampName protoreflect.FullName = "google.protobuf.Timestamp"
	durationName  protoreflect.FullName = "google.protobuf.Duration"
)

// Marshal returns the JSON form of m.
func Marshal(m proto.Message) []byte {
	return Append(make([]byte, 0, 1024), m)
}

// Append appends the JSON form of m to b.
func Append(b []byte, m proto.Message) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	return encoder{}.appendMessage(b, m.ProtoReflect())
}

// AppendDocumented appends the JSON form of m that the documented routes
// serve: documented fields always, other fields only when they hold a value
// (an unset, zero, empty or null value is left out).
func AppendDocumented(b []byte, m proto.Message) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	return encoder{documented: true}.appendMessage(b, m.ProtoReflect())
}

// documentedFields is the shape of the original system's GET
// /api/gpu-stats; AppendDocumented always writes these.
var documentedFields = map[protoreflect.FullName]bool{}

func init() {
	for msg, fields := range map[string][]string{
		"GetGpuStatsResponse": {"machines"},
		"Report":              {"hostname", "timestamp", "gpu_data", "system_info", "is_online"},
		"Gpu":                 {"id", "name", "temperature", "memory_used", "memory_total", "utilization", "processes"},
		"SystemInfo": {"cpu_percent", "memory_total", "memory_used", "memory_percent", "disk_total", "disk_used",
			"disk_percent", "ip_address", "screen_sessions", "docker_containers", "processes"},
		"TerminalSession": {"pid", "name", "status"},
		"DockerContainer": {"id", "name", "status", "image", "memoryUsage", "gpuDevices"},
		"Process": {"pid", "name", "cmdline", "cpu_percent", "memory_percent", "create_time", "status", "username",
			"is_gpu_process", "gpu_memory_usage", "gpu_id"},
	} {
		for _, f := range fields {
			documentedFields[protoreflect.FullName("gpumon.v1."+msg+"."+f)] = true
		}
	}
}

// plan is how a message type is written, worked out once per type.
type plan struct {
	special protoreflect.FullName // timestamp or duration; "" otherwise
	fields  []fieldPlan
}

type fieldPlan struct {
	fd         protoreflect.FieldDescriptor
	key        []byte // "name":
	oneof      bool   // member of a real oneof: written only when set
	documented bool
}

var plans sync.Map // protoreflect.FullName → *plan

func planOf(md protoreflect.MessageDescriptor) *plan {
	if p, ok := plans.Load(md.FullName()); ok {
		return p.(*plan)
	}
	p := &plan{}
	switch md.FullName() {
	case timestampName, durationName:
		p.special = md.FullName()
	}
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		key := append(appendString(nil, string(fd.Name())), ':')
		od := fd.ContainingOneof()
		p.fields = append(p.fields, fieldPlan{
			fd: fd, key: key, oneof: od != nil && !od.IsSynthetic(), documented: documentedFields[fd.FullName()],
		})
	}
	plans.Store(md.FullName(), p)
	return p
}

type encoder struct{ documented bool }

func (e encoder) appendMessage(b []byte, m protoreflect.Message) []byte {
	if !m.IsValid() {
		return append(b, "null"...)
	}
	p := planOf(m.Descriptor())
	switch p.special {
	case timestampName:
		return appendTimestamp(b, m)
	case durationName:
		return appendDuration(b, m)
	}
	b = append(b, '{')
	first := true
	for i := range p.fields {
		f := &p.fields[i]
		if (f.oneof || (e.documented && !f.documented)) && !m.Has(f.fd) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, f.key...)
		b = e.appendField(b, m, f.fd)
	}
	return append(b, '}')
}

func (e encoder) appendField(b []byte, m protoreflect.Message, fd protoreflect.FieldDescriptor) []byte {
	switch {
	case fd.IsList():
		return e.appendList(b, m.Get(fd).List(), fd)
	case fd.IsMap():
		return e.appendMap(b, m.Get(fd).Map(), fd)
	case fd.HasPresence() && !m.Has(fd):
		return append(b, "null"...)
	}
	return e.appendValue(b, m.Get(fd), fd)
}

func (e encoder) appendList(b []byte, l protoreflect.List, fd protoreflect.FieldDescriptor) []byte {
	b = append(b, '[')
	for i := range l.Len() {
		if i > 0 {
			b = append(b, ',')
		}
		b = e.appendValue(b, l.Get(i), fd)
	}
	return append(b, ']')
}

func (e encoder) appendMap(b []byte, mp protoreflect.Map, fd protoreflect.FieldDescriptor) []byte {
	keys := make([]protoreflect.MapKey, 0, mp.Len())
	mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		keys = append(keys, k)
		return true
	})
	slices.SortFunc(keys, func(x, y protoreflect.MapKey) int {
		return compareKeys(x, y)
	})
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k.String())
		b = append(b, ':')
		b = e.appendValue(b, mp.Get(k), fd.MapValue())
	}
	return append(b, '}')
}

func compareKeys(x, y protoreflect.MapKey) int {
	switch x.Interface().(type) {
	case string:
		return cmpOrdered(x.String(), y.String())
	case bool:
		return cmpOrdered(strconv.FormatBool(x.Bool()), strconv.FormatBool(y.Bool()))
	case int32, int64:
		return cmpOrdered(x.Int(), y.Int())
	default:
		return cmpOrdered(x.Uint(), y.Uint())
	}
}

func cmpOrdered[T int64 | uint64 | string](x, y T) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func (e encoder) appendValue(b []byte, v protoreflect.Value, fd protoreflect.FieldDescriptor) []byte {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return strconv.AppendBool(b, v.Bool())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return strconv.AppendInt(b, v.Int(), 10)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind,
		protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return strconv.AppendUint(b, v.Uint(), 10)
	case protoreflect.FloatKind:
		return appendFloat(b, v.Float(), 32)
	case protoreflect.DoubleKind:
		return appendFloat(b, v.Float(), 64)
	case protoreflect.StringKind:
		return appendString(b, v.String())
	case protoreflect.BytesKind:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, v.Bytes())
		return append(b, '"')
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return appendString(b, string(ev.Name()))
		}
		return strconv.AppendInt(b, int64(v.Enum()), 10)
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return e.appendMessage(b, v.Message())
	}
	return append(b, "null"...)
}

// appendFloat writes f the way JavaScript and encoding/json do; NaN and
// infinities, which JSON cannot express, become null.
func appendFloat(b []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

func appendTimestamp(b []byte, m protoreflect.Message) []byte {
	ts, ok := m.Interface().(*timestamppb.Timestamp)
	if !ok {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = ts.AsTime().UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

func appendDuration(b []byte, m protoreflect.Message) []byte {
	d, ok := m.Interface().(*durationpb.Duration)
	if !ok {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = strconv.AppendFloat(b, d.AsDuration().Seconds(), 'f', -1, 64)
	return append(b, 's', '"')
}

const hex = "0123456789abcdef"

// appendString writes s as a JSON string. Invalid UTF-8 becomes U+FFFD;
// <, > and & are escaped so the output is safe inside HTML too.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendString appends s as a JSON string, escaped as every string of this
// package's output is (a map key of a stitched document, for one).
func AppendString(b []byte, s string) []byte { return appendString(b, s) }
