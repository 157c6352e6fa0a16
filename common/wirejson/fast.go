package wirejson

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The one-pass reader: a document is read straight into the message, with
// no tree of values in between and no reflection per field. Each message
// type gets a plan once (every field's JSON keys, its offset in the
// generated struct and how its value is read); a type the plan does not
// cover (oneofs, maps, bytes, fields that must be exact) is read through the
// tree for that object only.
//
// It gives exactly what reading through the tree gives (a differential fuzz
// test holds it to that). Where an object names one field twice, by its
// proto name and by its JSON name, the later one wins (the tree's result
// depended on map order).

// fastKind is how a field's value is stored.
type fastKind uint8

const (
	fkString fastKind = iota
	fkBool
	fkInt32 // and enums
	fkInt64
	fkUint32
	fkUint64
	fkFloat32
	fkFloat64
	fkTimestamp
	fkDuration
	fkMessage
)

type fastField struct {
	fd       protoreflect.FieldDescriptor
	offset   uintptr
	kind     fastKind
	list     bool
	optional bool // a pointer to the scalar (explicit presence)
	hook     bool // read after the object's other fields (fieldHooks)
	sub      *fastPlan
	subType  reflect.Type // struct type of a message field
	// names are the keys that name the field: proto name, JSON name.
	names [2]string
	// after is the field's slot in a reader's guesses: the key that
	// followed it last.
	after int
}

type fastPlan struct {
	fields map[string]*fastField
	hooked []*fastField
	ok     bool // false: read this type through the tree
	// first is the plan's slot in a reader's guesses: the key that came
	// first in its last object.
	first int
}

// slots counts the guess slots of every plan built (planMu).
var slots atomic.Int64

// guess is a reader's guess at the next key: the key (one of f's names)
// and its field.
type guess struct {
	key string
	f   *fastField
}

var fastPlans sync.Map // reflect.Type (struct) → *fastPlan

var planMu sync.Mutex

// fastPlanOf returns the plan of the generated struct t.
func fastPlanOf(t reflect.Type, md protoreflect.MessageDescriptor) *fastPlan {
	if p, ok := fastPlans.Load(t); ok {
		return p.(*fastPlan)
	}
	planMu.Lock()
	defer planMu.Unlock()
	return buildPlan(t, md, map[reflect.Type]*fastPlan{})
}

func buildPlan(t reflect.Type, md protoreflect.MessageDescriptor, building map[reflect.Type]*fastPlan) *fastPlan {
	if p, ok := fastPlans.Load(t); ok {
		return p.(*fastPlan)
	}
	if p := building[t]; p != nil {
		return p // recursive type: filled in below
	}
	p := &fastPlan{fields: map[string]*fastField{}, ok: true, first: int(slots.Add(1) - 1)}
	building[t] = p
	byName := map[string]reflect.StructField{}
	for i := range t.NumField() {
		sf := t.Field(i)
		if _, isOneof := sf.Tag.Lookup("protobuf_oneof"); isOneof {
			p.ok = false
		}
		for _, part := range strings.Split(sf.Tag.Get("protobuf"), ",") {
			if name, ok := strings.CutPrefix(part, "name="); ok {
				byName[name] = sf
			}
		}
	}
	fields := md.Fields()
	var list []*fastField
	for i := range fields.Len() {
		fd := fields.Get(i)
		if _, strict := strictFields[fd.FullName()]; strict {
			p.ok = false // checked on the tree (checkStrict)
		}
		sf, found := byName[string(fd.Name())]
		f := fieldOf(fd, sf, building)
		if !found || f == nil {
			p.ok = false
			continue
		}
		list = append(list, f)
	}
	// A key is a field's proto name, else its JSON name (the tree's lookup).
	for _, f := range list {
		p.fields[f.fd.JSONName()] = f
	}
	for _, f := range list {
		p.fields[string(f.fd.Name())] = f
		if f.hook {
			p.hooked = append(p.hooked, f)
		}
	}
	fastPlans.Store(t, p)
	return p
}

// fieldOf plans one field, or returns nil when the plan does not cover it.
func fieldOf(fd protoreflect.FieldDescriptor, sf reflect.StructField, building map[reflect.Type]*fastPlan) *fastField {
	if fd.IsMap() || fd.Kind() == protoreflect.BytesKind || fd.Kind() == protoreflect.GroupKind {
		return nil
	}
	f := &fastField{fd: fd, offset: sf.Offset, list: fd.IsList(), names: [2]string{string(fd.Name()), fd.JSONName()}}
	f.after = int(slots.Add(1) - 1)
	_, f.hook = fieldHooks[fd.FullName()]
	gt := sf.Type
	if f.list {
		gt = gt.Elem()
	}
	switch fd.Kind() {
	case protoreflect.MessageKind:
		switch fd.Message().FullName() {
		case timestampName:
			f.kind = fkTimestamp
		case durationName:
			f.kind = fkDuration
		default:
			f.kind = fkMessage
			f.subType = gt.Elem()
			f.sub = buildPlan(f.subType, fd.Message(), building)
		}
		return f
	case protoreflect.StringKind:
		f.kind = fkString
	case protoreflect.BoolKind:
		f.kind = fkBool
	case protoreflect.EnumKind, protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		f.kind = fkInt32
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		f.kind = fkInt64
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		f.kind = fkUint32
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		f.kind = fkUint64
	case protoreflect.FloatKind:
		f.kind = fkFloat32
	case protoreflect.DoubleKind:
		f.kind = fkFloat64
	default:
		return nil
	}
	f.optional = !f.list && gt.Kind() == reflect.Pointer
	return f
}

// fastReader reads one document into messages.
type fastReader struct {
	parser
	l Lenient
	// guesses, by slot (fastPlan.first, fastField.after), are the keys
	// that came next last time: objects of a type, a list's above all,
	// name their fields in the same order, so a key is compared with its
	// guess before it is looked up.
	guesses []guess
}

// unmarshalFast reads the object at p.i into m. ok is false when m's type
// has no plan (the caller reads it through the tree).
func (l Lenient) unmarshalFast(data []byte, m proto.Message) (ok bool, err error) {
	rv := reflect.ValueOf(m)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return false, nil
	}
	plan := fastPlanOf(rv.Elem().Type(), m.ProtoReflect().Descriptor())
	if !plan.ok {
		return false, nil
	}
	r := &fastReader{parser: parser{data: data}, l: l, guesses: make([]guess, slots.Load())}
	r.space()
	if r.i >= len(data) || data[r.i] != '{' {
		return false, nil
	}
	proto.Reset(m)
	if err := r.object(plan, rv.UnsafePointer(), m.ProtoReflect(), 1); err != nil {
		proto.Reset(m)
		return true, err
	}
	r.space()
	if r.i < len(data) && data[r.i] != ']' && data[r.i] != '}' {
		proto.Reset(m)
		return true, errTrailing
	}
	return true, nil
}

// object reads an object into the message at base (pm is the same message,
// for hooks), depth being the object's own nesting depth.
func (r *fastReader) object(plan *fastPlan, base unsafe.Pointer, pm protoreflect.Message, depth int) error {
	r.i++ // {
	var hooked []span
	r.space()
	if r.i < len(r.data) && r.data[r.i] == '}' {
		r.i++
		return nil
	}
	slot := plan.first // where the guess at the next key is
	for {
		r.space()
		if r.i >= len(r.data) || r.data[r.i] != '"' {
			return r.fail("looking for beginning of object key string")
		}
		f, err := r.key(plan, slot)
		if err != nil {
			return err
		}
		slot = -1
		if f != nil {
			slot = f.after
		}
		if err := r.colon(); err != nil {
			return err
		}
		switch {
		case f == nil:
			err = r.skip(depth)
		case f.hook:
			var s span
			s, err = r.span(depth)
			hooked = setSpan(hooked, f, s)
		default:
			err = r.field(f, unsafe.Add(base, f.offset), depth)
		}
		if err != nil {
			return err
		}
		switch done, err := r.next('}', "after object key:value pair"); {
		case err != nil:
			return err
		case done:
			r.hooks(pm, hooked)
			return nil
		}
	}
}

// span is a hooked field's last raw value in its object.
type span struct {
	f          *fastField
	start, end int
}

func setSpan(list []span, f *fastField, s span) []span {
	s.f = f
	for i := range list {
		if list[i].f == f {
			list[i] = s
			return list
		}
	}
	return append(list, s)
}

// hooks runs the hooks of fields an object named, after its other fields.
func (r *fastReader) hooks(pm protoreflect.Message, hooked []span) {
	for _, s := range hooked {
		pm.Clear(s.f.fd)
		raw, err := parseValue(r.data[s.start:s.end])
		if err == nil && raw != nil {
			r.l.fillField(pm, s.f.fd, raw)
		}
	}
}

// key reads an object key and finds its field (nil: unknown): first the
// guess in slot (-1: none), then in the plan, learning the guess.
func (r *fastReader) key(plan *fastPlan, slot int) (*fastField, error) {
	start := r.i + 1
	for j := start; j < len(r.data); j++ {
		c := r.data[j]
		if c == '"' {
			r.i = j + 1
			raw := r.data[start:j]
			if slot < 0 || slot >= len(r.guesses) {
				return plan.fields[string(raw)], nil
			}
			g := &r.guesses[slot]
			if g.f != nil && string(raw) == g.key {
				return g.f, nil
			}
			f := plan.fields[string(raw)]
			if f != nil {
				g.f, g.key = f, f.names[0]
				if string(raw) != g.key {
					g.key = f.names[1]
				}
			}
			return f, nil
		}
		if c == '\\' || c < 0x20 || c >= 0x80 {
			break
		}
	}
	k, err := r.str()
	if err != nil {
		return nil, err
	}
	return plan.fields[k], nil
}

// field reads the value for f into the struct field at ptr, replacing what
// an earlier key set.
func (r *fastReader) field(f *fastField, ptr unsafe.Pointer, depth int) error {
	if r.i >= len(r.data) {
		return r.fail("")
	}
	c := r.data[r.i]
	switch {
	case f.list:
		clearList(f, ptr)
		if c != '[' {
			return r.skip(depth)
		}
		return r.list(f, ptr, depth+1)
	case f.kind == fkMessage:
		*(*unsafe.Pointer)(ptr) = nil
		if c != '{' {
			return r.skip(depth)
		}
		msg, err := r.message(f, depth+1)
		if err == nil {
			*(*unsafe.Pointer)(ptr) = msg
		}
		return err
	}
	clearScalar(f, ptr)
	v, err := r.scalar(depth)
	if err == nil {
		setScalar(r.l, f, ptr, v)
	}
	return err
}

// message reads an object into a new message of f's type.
func (r *fastReader) message(f *fastField, depth int) (unsafe.Pointer, error) {
	if depth > maxDepth {
		return nil, errDepth
	}
	v := reflect.New(f.subType)
	pm := v.Interface().(proto.Message)
	if f.sub.ok {
		return v.UnsafePointer(), r.object(f.sub, v.UnsafePointer(), pm.ProtoReflect(), depth)
	}
	start := r.i
	if err := r.skip(depth - 1); err != nil {
		return nil, err
	}
	obj, err := parseValue(r.data[start:r.i])
	if err != nil {
		return nil, err
	}
	r.l.fillMessage(pm.ProtoReflect(), obj.(map[string]any))
	return v.UnsafePointer(), nil
}

// list reads an array into f's slice at ptr; depth is the array's own.
func (r *fastReader) list(f *fastField, ptr unsafe.Pointer, depth int) error {
	if depth > maxDepth {
		return errDepth
	}
	r.i++ // [
	r.space()
	if r.i < len(r.data) && r.data[r.i] == ']' {
		r.i++
		return nil
	}
	for {
		r.space()
		if r.i >= len(r.data) {
			return r.fail("")
		}
		if f.kind == fkMessage {
			if r.data[r.i] == '{' {
				msg, err := r.message(f, depth+1)
				if err != nil {
					return err
				}
				s := (*[]unsafe.Pointer)(ptr)
				*s = append(*s, msg)
			} else if err := r.skip(depth); err != nil {
				return err
			}
		} else {
			v, err := r.scalar(depth)
			if err != nil {
				return err
			}
			appendScalar(r.l, f, ptr, v)
		}
		switch done, err := r.next(']', "after array element"); {
		case err != nil:
			return err
		case done:
			return nil
		}
	}
}

// value is one JSON value as the plan reads it: a number's text, a string,
// a bool, null, or the span of an array or object.
type value struct {
	kind byte   // 'n' number, 's' string, 'b' bool, 'z' null, 'c' array or object
	text []byte // a number's or a composite's text
	str  string
	b    bool
}

func (r *fastReader) scalar(depth int) (value, error) {
	if r.i >= len(r.data) {
		return value{}, r.fail("")
	}
	c := r.data[r.i]
	switch {
	case c == '"':
		s, err := r.str()
		return value{kind: 's', str: s}, err
	case c == '-' || isDigit(c):
		start := r.i
		if err := r.numberText(); err != nil {
			return value{}, err
		}
		return value{kind: 'n', text: r.data[start:r.i]}, nil
	case c == 't':
		return value{kind: 'b', b: true}, r.literal("true")
	case c == 'f':
		return value{kind: 'b'}, r.literal("false")
	case c == 'n':
		return value{kind: 'z'}, r.literal("null")
	}
	s, err := r.span(depth)
	return value{kind: 'c', text: r.data[s.start:s.end]}, err
}

// span skips a value and returns where it lies.
func (r *fastReader) span(depth int) (span, error) {
	start := r.i
	err := r.skip(depth)
	return span{start: start, end: r.i}, err
}

// skip reads past a value, accepting exactly what the tree parser accepts;
// depth is that of the object or array holding it.
func (r *fastReader) skip(depth int) error {
	if r.i >= len(r.data) {
		return r.fail("")
	}
	switch c := r.data[r.i]; {
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return errDepth
		}
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		r.i++
		r.space()
		if r.i < len(r.data) && r.data[r.i] == closing {
			r.i++
			return nil
		}
		for {
			r.space()
			if c == '{' {
				if r.i >= len(r.data) || r.data[r.i] != '"' {
					return r.fail("looking for beginning of object key string")
				}
				if _, err := r.str(); err != nil {
					return err
				}
				if err := r.colon(); err != nil {
					return err
				}
			}
			if err := r.skip(depth + 1); err != nil {
				return err
			}
			after := "after array element"
			if c == '{' {
				after = "after object key:value pair"
			}
			switch done, err := r.next(closing, after); {
			case err != nil:
				return err
			case done:
				return nil
			}
		}
	default:
		_, err := r.value(depth)
		return err
	}
}

// anyOf is v as the tree holds it.
func anyOf(v value) (any, bool) {
	switch v.kind {
	case 'n':
		return json.Number(v.text), true
	case 's':
		return v.str, true
	case 'b':
		return v.b, true
	case 'c':
		raw, err := parseValue(v.text)
		return raw, err == nil
	}
	return nil, false
}

// parseNumber is asFloat of a number's text, without allocating.
func parseNumber(text []byte) (float64, bool) {
	// Most numbers of a report are integers (PIDs, bytes, MiB): up to 15
	// digits they are exact as float64 and read here without strconv.
	if digits := text; len(text) > 0 && len(text) <= 16 {
		neg := text[0] == '-'
		if neg {
			digits = text[1:]
		}
		if n, ok := smallInt(digits); ok {
			if neg {
				return -float64(n), true
			}
			return float64(n), true
		}
	}
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(text), len(text)), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// smallInt is digits as a number when it is 1 to 15 decimal digits.
func smallInt(digits []byte) (uint64, bool) {
	if len(digits) == 0 || len(digits) > 15 {
		return 0, false
	}
	var n uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

func clearList(f *fastField, ptr unsafe.Pointer) {
	switch f.kind {
	case fkString:
		*(*[]string)(ptr) = nil
	case fkBool:
		*(*[]bool)(ptr) = nil
	case fkInt32, fkUint32, fkFloat32:
		*(*[]uint32)(ptr) = nil
	case fkInt64, fkUint64, fkFloat64:
		*(*[]uint64)(ptr) = nil
	default:
		*(*[]unsafe.Pointer)(ptr) = nil
	}
}

func clearScalar(f *fastField, ptr unsafe.Pointer) {
	switch {
	case f.optional, f.kind == fkTimestamp, f.kind == fkDuration:
		*(*unsafe.Pointer)(ptr) = nil
	case f.kind == fkString:
		*(*string)(ptr) = ""
	case f.kind == fkBool:
		*(*bool)(ptr) = false
	case f.kind == fkInt32, f.kind == fkUint32, f.kind == fkFloat32:
		*(*uint32)(ptr) = 0
	default:
		*(*uint64)(ptr) = 0
	}
}

// setScalar stores v in the scalar field at ptr when it converts.
func setScalar(l Lenient, f *fastField, ptr unsafe.Pointer, v value) {
	switch f.kind {
	case fkTimestamp:
		if raw, ok := anyOf(v); ok {
			if t, ok := l.asTime(raw); ok {
				*(**timestamppb.Timestamp)(ptr) = timestamppb.New(t)
			}
		}
		return
	case fkDuration:
		if raw, ok := anyOf(v); ok {
			if d, ok := asDuration(raw); ok {
				*(**durationpb.Duration)(ptr) = durationpb.New(d)
			}
		}
		return
	}
	if f.optional {
		if dst := newScalar(f); store(l, f, dst, v) {
			*(*unsafe.Pointer)(ptr) = dst
		}
		return
	}
	store(l, f, ptr, v)
}

func appendScalar(l Lenient, f *fastField, ptr unsafe.Pointer, v value) {
	var tmp [8]byte
	p := unsafe.Pointer(&tmp)
	if f.kind == fkString {
		var s string
		if store(l, f, unsafe.Pointer(&s), v) {
			*(*[]string)(ptr) = append(*(*[]string)(ptr), s)
		}
		return
	}
	if f.kind == fkTimestamp || f.kind == fkDuration {
		var m unsafe.Pointer
		setScalar(l, f, unsafe.Pointer(&m), v)
		if m != nil {
			*(*[]unsafe.Pointer)(ptr) = append(*(*[]unsafe.Pointer)(ptr), m)
		}
		return
	}
	if !store(l, f, p, v) {
		return
	}
	switch f.kind {
	case fkBool:
		*(*[]bool)(ptr) = append(*(*[]bool)(ptr), *(*bool)(p))
	case fkInt32, fkUint32, fkFloat32:
		*(*[]uint32)(ptr) = append(*(*[]uint32)(ptr), *(*uint32)(p))
	default:
		*(*[]uint64)(ptr) = append(*(*[]uint64)(ptr), *(*uint64)(p))
	}
}

func newScalar(f *fastField) unsafe.Pointer {
	switch f.kind {
	case fkString:
		return unsafe.Pointer(new(string))
	case fkBool:
		return unsafe.Pointer(new(bool))
	case fkInt32, fkUint32, fkFloat32:
		return unsafe.Pointer(new(uint32))
	default:
		return unsafe.Pointer(new(uint64))
	}
}

// store converts v for f and writes it at dst; false when it does not
// convert (the tree's rules: value, asString, asBool, asFloat, enumValue).
func store(l Lenient, f *fastField, dst unsafe.Pointer, v value) bool {
	if v.kind == 'z' {
		return false
	}
	switch f.kind {
	case fkString:
		switch v.kind {
		case 's':
			*(*string)(dst) = v.str
		case 'n':
			*(*string)(dst) = string(v.text)
		case 'b':
			*(*string)(dst) = strconv.FormatBool(v.b)
		default:
			raw, ok := anyOf(v)
			if !ok {
				return false
			}
			s, ok := asString(raw)
			if !ok {
				return false
			}
			*(*string)(dst) = s
		}
		return true
	case fkBool:
		raw, _ := anyOf(v)
		b, ok := asBool(raw)
		if ok {
			*(*bool)(dst) = b
		}
		return ok
	}
	if f.fd.Kind() == protoreflect.EnumKind {
		raw, _ := anyOf(v)
		ev, ok := enumValue(f.fd, raw)
		if ok {
			*(*int32)(dst) = int32(ev.Enum())
		}
		return ok
	}
	var x float64
	var ok bool
	if v.kind == 'n' {
		x, ok = parseNumber(v.text)
	} else {
		raw, _ := anyOf(v)
		x, ok = asFloat(raw)
	}
	if !ok {
		return false
	}
	nv := numberValue(f.fd.Kind(), x)
	switch f.kind {
	case fkInt32:
		*(*int32)(dst) = int32(nv.Int())
	case fkInt64:
		*(*int64)(dst) = nv.Int()
	case fkUint32:
		*(*uint32)(dst) = uint32(nv.Uint())
	case fkUint64:
		*(*uint64)(dst) = nv.Uint()
	case fkFloat32:
		*(*float32)(dst) = float32(nv.Float())
	case fkFloat64:
		*(*float64)(dst) = nv.Float()
	}
	return true
}
