package wirejson

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// ErrNotObject is returned when the JSON document is not an object.
var ErrNotObject = errors.New("body must be a JSON object")

// Lenient reads JSON that real senders produce into a message, accepting more
// than protojson does:
//   - fields by proto name or JSON name; unknown fields are ignored;
//   - null for any field (left unset);
//   - numbers for string fields and numeric strings for number fields;
//     floats for integer fields (rounded, clamped to the type's range);
//   - a JSON array or object for a string field (kept as compact JSON text;
//     DockerContainer.gpuDevices is normalised to "[0,1]" form);
//   - timestamps as RFC 3339, as ISO 8601 without a zone (read in Location),
//     or as epoch seconds;
//   - values of the wrong JSON type are ignored rather than failing the
//     whole document.
//
// A document that is not JSON, or not an object, is an error; so is a value
// of a field that must be exact (see strictFields: process ids to signal),
// which is refused rather than coerced.
type Lenient struct {
	// Location for timestamps without a zone; time.Local when nil.
	Location *time.Location
}

// Unmarshal decodes data into m (which it resets first; on an error m is
// left reset). An object is read in one pass straight into m (fast.go).
func (l Lenient) Unmarshal(data []byte, m proto.Message) error {
	if ok, err := l.unmarshalFast(data, m); ok {
		if err != nil {
			return fmt.Errorf("body is not valid JSON: %w", err)
		}
		return nil
	}
	return l.unmarshalTree(data, m)
}

// unmarshalTree reads data into a tree of values first, then into m.
func (l Lenient) unmarshalTree(data []byte, m proto.Message) error {
	v, err := parseValue(data)
	if err != nil {
		return fmt.Errorf("body is not valid JSON: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return ErrNotObject
	}
	if err := checkStrict(m.ProtoReflect().Descriptor(), obj); err != nil {
		return err
	}
	proto.Reset(m)
	l.fillMessage(m.ProtoReflect(), obj)
	return nil
}

func (l Lenient) fillMessage(m protoreflect.Message, obj map[string]any) {
	fields := m.Descriptor().Fields()
	// Ordinary fields first, then the ones with hooks, which may look at
	// what the sender set (map order is random).
	for _, hooked := range []bool{false, true} {
		for key, raw := range obj {
			fd := fields.ByName(protoreflect.Name(key))
			if fd == nil {
				fd = fields.ByJSONName(key)
			}
			if fd == nil || raw == nil {
				continue
			}
			if _, ok := fieldHooks[fd.FullName()]; ok == hooked {
				l.fillField(m, fd, raw)
			}
		}
	}
}

func (l Lenient) fillField(m protoreflect.Message, fd protoreflect.FieldDescriptor, raw any) {
	if hook, ok := fieldHooks[fd.FullName()]; ok {
		hook(m, fd, raw)
		return
	}
	switch {
	case fd.IsList():
		arr, ok := raw.([]any)
		if !ok {
			return
		}
		list := m.Mutable(fd).List()
		for _, item := range arr {
			if v, ok := l.value(list.NewElement, fd, item); ok {
				list.Append(v)
			}
		}
	case fd.IsMap():
		obj, ok := raw.(map[string]any)
		if !ok {
			return
		}
		mp := m.Mutable(fd).Map()
		for k, item := range obj {
			key, ok := mapKey(fd.MapKey(), k)
			if !ok {
				continue
			}
			if v, ok := l.value(mp.NewValue, fd.MapValue(), item); ok {
				mp.Set(key, v)
			}
		}
	default:
		if v, ok := l.value(func() protoreflect.Value { return m.NewField(fd) }, fd, raw); ok {
			m.Set(fd, v)
		}
	}
}

// value converts one JSON value for fd; newMsg makes a fresh message value.
func (l Lenient) value(newMsg func() protoreflect.Value, fd protoreflect.FieldDescriptor, raw any) (protoreflect.Value, bool) {
	if raw == nil {
		return protoreflect.Value{}, false
	}
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return l.messageValue(newMsg, fd, raw)
	case protoreflect.StringKind:
		s, ok := asString(raw)
		return protoreflect.ValueOfString(s), ok
	case protoreflect.BoolKind:
		bv, ok := asBool(raw)
		return protoreflect.ValueOfBool(bv), ok
	case protoreflect.EnumKind:
		return enumValue(fd, raw)
	case protoreflect.BytesKind:
		return protoreflect.Value{}, false
	}
	f, ok := asFloat(raw)
	if !ok {
		return protoreflect.Value{}, false
	}
	return numberValue(fd.Kind(), f), true
}

func (l Lenient) messageValue(newMsg func() protoreflect.Value, fd protoreflect.FieldDescriptor, raw any) (protoreflect.Value, bool) {
	switch fd.Message().FullName() {
	case timestampName:
		t, ok := l.asTime(raw)
		if !ok {
			return protoreflect.Value{}, false
		}
		return protoreflect.ValueOfMessage(timestamppb.New(t).ProtoReflect()), true
	case durationName:
		d, ok := asDuration(raw)
		if !ok {
			return protoreflect.Value{}, false
		}
		return protoreflect.ValueOfMessage(durationpb.New(d).ProtoReflect()), true
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return protoreflect.Value{}, false
	}
	v := newMsg()
	l.fillMessage(v.Message(), obj)
	return v, true
}

func numberValue(kind protoreflect.Kind, f float64) protoreflect.Value {
	switch kind {
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(float32(f))
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(f)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(clamp(f, math.MinInt32, math.MaxInt32)))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(int64(clamp(f, -(1 << 63), (1<<63)-1024)))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(uint32(clamp(f, 0, math.MaxUint32)))
	default:
		return protoreflect.ValueOfUint64(uint64(clamp(f, 0, (1<<64)-2048)))
	}
}

func clamp(f, lo, hi float64) float64 {
	return math.Round(math.Max(lo, math.Min(hi, f)))
}

func enumValue(fd protoreflect.FieldDescriptor, raw any) (protoreflect.Value, bool) {
	if s, ok := raw.(string); ok {
		if ev := fd.Enum().Values().ByName(protoreflect.Name(s)); ev != nil {
			return protoreflect.ValueOfEnum(ev.Number()), true
		}
		return protoreflect.Value{}, false
	}
	f, ok := asFloat(raw)
	if !ok {
		return protoreflect.Value{}, false
	}
	return protoreflect.ValueOfEnum(protoreflect.EnumNumber(clamp(f, math.MinInt32, math.MaxInt32))), true
}

func mapKey(fd protoreflect.FieldDescriptor, k string) (protoreflect.MapKey, bool) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(k).MapKey(), true
	case protoreflect.BoolKind:
		b, err := strconv.ParseBool(k)
		return protoreflect.ValueOfBool(b).MapKey(), err == nil
	}
	f, err := strconv.ParseFloat(k, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return protoreflect.MapKey{}, false
	}
	return numberValue(fd.Kind(), f).MapKey(), true
}

func asString(raw any) (string, bool) {
	switch v := raw.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	case []any, map[string]any:
		b, err := json.Marshal(v)
		return string(b), err == nil
	}
	return "", false
}

func asBool(raw any) (bool, bool) {
	switch v := raw.(type) {
	case bool:
		return v, true
	case json.Number:
		f, err := v.Float64()
		return f != 0, err == nil
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		return b, err == nil
	}
	return false, false
}

func asFloat(raw any) (float64, bool) {
	var s string
	switch v := raw.(type) {
	case json.Number:
		s = v.String()
	case string:
		s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "%"))
	case bool:
		if v {
			return 1, true
		}
		return 0, true
	default:
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

func asDuration(raw any) (time.Duration, bool) {
	switch v := raw.(type) {
	case string:
		d, err := time.ParseDuration(v)
		return d, err == nil
	case json.Number:
		f, err := v.Float64()
		return time.Duration(f * float64(time.Second)), err == nil
	}
	return 0, false
}

// naiveLayouts are the zone-less forms Python's isoformat() and str() write.
var naiveLayouts = []string{
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02",
}

func (l Lenient) asTime(raw any) (time.Time, bool) {
	switch v := raw.(type) {
	case json.Number:
		f, err := v.Float64()
		if err != nil || f < 0 || f > 1e11 {
			return time.Time{}, false
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)), true
	case string:
		return l.parseTime(strings.TrimSpace(v))
	}
	return time.Time{}, false
}

func (l Lenient) parseTime(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if t, err := time.Parse("2006-01-02 15:04:05.999999999Z07:00", s); err == nil {
		return t, true
	}
	loc := l.Location
	if loc == nil {
		loc = time.Local
	}
	for _, layout := range naiveLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
