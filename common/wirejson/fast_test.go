package wirejson

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// FuzzFastMatchesTree: the one-pass reader gives exactly what reading
// through the tree gives — the same error or the same message — on every
// input, for the documented POST's report and the kill request.
func FuzzFastMatchesTree(f *testing.F) {
	for _, p := range []string{"testdata/python_collector.json", "testdata/documented_report.json"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{"hostname":"a","hostname":null}`, `{"hostname":42}`, `{"hostname":"a"}]`, `{"hostname":"a"} x`,
		`{"gpu_data":[{"id":"3","temperature":"45%","utilization":null,"memory_used":1e3,"processes":[null,{"pid":1.6}]}]}`,
		`{"gpu_data":[],"gpu_data":[{"id":1}]}`, `{"system_info":{"docker_containers":[{"gpuDevices":"[0 1]"},{"gpuDevices":[1,"2",-1],"gpu_ids":[7]}]}}`,
		`{"system_info":{"docker_containers":[{"gpuDevices":"all","gpuDevices":"[3]"}]}}`,
		`{"timestamp":"2026-11-29T02:07:37.542655","system_info":{"cpu_percent":"12.5","ip_address":[1,{"b":2,"a":"<"}]}}`,
		`{"timestamp":1764300000.5,"collectors":[{"state":"COLLECTOR_STATE_OK"},{"state":2.7}],"is_online":"true"}`,
		`{"gpuData":[{"id":true,"name":12,"throttle_reasons":["a",null,3,true,[1]]}],"clock_offset_seconds":1e999}`,
		`{"systemInfo":{"processes":[{"pid":-1e20,"gpu_ids":[1,2.5,"x",1e12],"create_time":"nan"}]}}`,
		`{"hostname":"\u00e9\ud800","unknown":{"deep":[[[{"x":"\u12"}]]]}}`, `{"a":[1,2,}`, `{"hostname":"a",}`,
		`{"gpu_data":{"id":1},"system_info":[],"timestamp":{}}`, `{"gpu_data":[{"idle_since":"2026-11-29T02:07:37Z"}]}`,
	} {
		f.Add([]byte(s))
	}
	l := Lenient{Location: time.UTC}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, m := range []func() proto.Message{
			func() proto.Message { return new(gpumonv1.Report) },
			func() proto.Message { return new(gpumonv1.KillProcessesRequest) },
		} {
			fast, tree := m(), m()
			if ambiguous(data, fast.ProtoReflect().Descriptor()) {
				continue
			}
			errFast := l.Unmarshal(data, fast)
			errTree := l.unmarshalTree(data, tree)
			if (errFast == nil) != (errTree == nil) || errors.Is(errFast, ErrNotObject) != errors.Is(errTree, ErrNotObject) {
				t.Fatalf("%T: one-pass error %v, tree error %v", fast, errFast, errTree)
			}
			if errFast == nil && !proto.Equal(fast, tree) {
				t.Fatalf("%T differs:\none-pass %v\ntree     %v", fast, fast, tree)
			}
		}
	})
}

// ambiguous reports whether some object of data names one field by two
// keys (proto name and JSON name): the tree's result then depends on map
// order.
func ambiguous(data []byte, md protoreflect.MessageDescriptor) bool {
	v, err := parseValue(data)
	if err != nil {
		return false
	}
	return ambiguousIn(v, md)
}

func ambiguousIn(v any, md protoreflect.MessageDescriptor) bool {
	obj, ok := v.(map[string]any)
	if !ok {
		return false
	}
	seen := map[protoreflect.FieldDescriptor]bool{}
	for k, raw := range obj {
		fd := md.Fields().ByName(protoreflect.Name(k))
		if fd == nil {
			fd = md.Fields().ByJSONName(k)
		}
		if fd == nil {
			continue
		}
		if seen[fd] {
			return true
		}
		seen[fd] = true
		if fd.Message() == nil || fd.IsMap() {
			continue
		}
		items := []any{raw}
		if arr, ok := raw.([]any); ok && fd.IsList() {
			items = arr
		}
		for _, item := range items {
			if ambiguousIn(item, fd.Message()) {
				return true
			}
		}
	}
	return false
}

// TestFastMatchesTreeOnRandomReports holds the one-pass reader to the tree
// on reports built at random from the schema: every field under its proto
// or JSON name, repeated keys, and values of every JSON type, right and
// wrong.
func TestFastMatchesTreeOnRandomReports(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 14))
	l := Lenient{Location: time.UTC}
	md := (&gpumonv1.Report{}).ProtoReflect().Descriptor()
	compared, valid := 0, 0
	for i := range 10000 {
		data := randomObject(rng, md, 0)
		if ambiguous(data, md) {
			continue
		}
		compared++
		var fast, tree gpumonv1.Report
		errFast := l.Unmarshal(data, &fast)
		errTree := l.unmarshalTree(data, &tree)
		if errTree == nil {
			valid++
		}
		if (errFast == nil) != (errTree == nil) {
			t.Fatalf("document %d: one-pass error %v, tree error %v\n%s", i, errFast, errTree, data)
		}
		if !proto.Equal(&fast, &tree) {
			t.Fatalf("document %d differs:\n%s\none-pass %v\ntree     %v", i, data, &fast, &tree)
		}
	}
	if compared < 7000 || valid < 7000 {
		t.Fatalf("only %d of 10000 documents compared, %d of them valid", compared, valid)
	}
}

func randomObject(rng *rand.Rand, md protoreflect.MessageDescriptor, depth int) []byte {
	b := []byte{'{'}
	fields := md.Fields()
	n := rng.IntN(fields.Len() + 2)
	keys := map[protoreflect.FieldDescriptor]string{} // one key per field, so that repeats are exact
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		fd := fields.Get(rng.IntN(fields.Len()))
		key, ok := keys[fd]
		if !ok {
			key = string(fd.Name())
			switch rng.IntN(6) {
			case 0:
				key = fd.JSONName()
			case 1:
				key = "unknown_" + key
			}
			keys[fd] = key
		}
		b = AppendString(b, key)
		b = append(b, ':')
		b = append(b, randomValue(rng, fd, depth, fd.IsList())...)
	}
	return append(b, '}')
}

func randomValue(rng *rand.Rand, fd protoreflect.FieldDescriptor, depth int, list bool) []byte {
	if list && rng.IntN(4) > 0 {
		b := []byte{'['}
		for i := range rng.IntN(4) {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, randomValue(rng, fd, depth, false)...)
		}
		return append(b, ']')
	}
	if fd.Message() != nil && fd.Message().FullName() != timestampName && depth < 4 && rng.IntN(4) > 0 {
		return randomObject(rng, fd.Message(), depth+1)
	}
	values := []string{`null`, `0`, `-3`, `2.5`, `1e3`, `-1e30`, `1e300`, `4294967296.7`, `true`, `false`,
		`"12"`, `" 45% "`, `"abc"`, `"true"`, `"0x10"`, `""`, `"[0 1]"`, `"0,1"`, `"all"`, `[1,"2",-1]`, `[]`, `{}`,
		`{"b":1,"a":"<&>"}`, `"2026-11-29T02:07:37.542655"`, `"2026-11-29 02:07:37+02:00"`, `1764300000.25`,
		`"COLLECTOR_STATE_OK"`, `"1.5s"`, `"\u00e9\ud800x"`, `[[1],[null]]`, `"NaN"`, `"Infinity"`}
	return []byte(values[rng.IntN(len(values))])
}

// TestUnmarshalKeepsNothingOfData: what Lenient.Unmarshal reads is copied
// out of data, so a caller may reuse data's buffer (the gateway reads each
// request body into a kept buffer): overwriting data leaves the message as
// it was, for the recorded collectors' reports and random ones.
func TestUnmarshalKeepsNothingOfData(t *testing.T) {
	var docs [][]byte
	for _, p := range []string{"testdata/python_collector.json", "testdata/documented_report.json"} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, b)
	}
	rng := rand.New(rand.NewPCG(15, 15))
	md := (&gpumonv1.Report{}).ProtoReflect().Descriptor()
	for range 5000 {
		docs = append(docs, randomObject(rng, md, 0))
	}
	read := 0
	for i, data := range docs {
		var r gpumonv1.Report
		if err := (Lenient{Location: time.UTC}).Unmarshal(data, &r); err != nil {
			continue
		}
		read++
		// Bytes, not a clone: a clone shares the message's strings.
		det := proto.MarshalOptions{Deterministic: true}
		want, err := det.Marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		for j := range data {
			data[j] = 'x'
		}
		if got, _ := det.Marshal(&r); !bytes.Equal(got, want) {
			t.Fatalf("document %d: the message changed with the buffer it was read from", i)
		}
	}
	if read < 3000 {
		t.Fatalf("only %d of %d documents read", read, len(docs))
	}
}

// TestParseNumberMatchesStrconv: the integer shortcut gives what
// strconv.ParseFloat gives, bit for bit (negative zero included), and
// leaves everything else to it.
func TestParseNumberMatchesStrconv(t *testing.T) {
	cases := []string{"0", "-0", "7", "-7", "007", "123456789012345", "-123456789012345", "1234567890123456",
		"9007199254740993", "99999999999999999999", "12.5", "1e3", "-", "", "+5", "1_000", "0x10", " 1", "1 ", "--1", "1-"}
	rng := rand.New(rand.NewPCG(16, 16))
	for range 20000 {
		b := make([]byte, rng.IntN(18))
		for i := range b {
			b[i] = "0123456789-.e+"[rng.IntN(14)]
		}
		cases = append(cases, string(b))
	}
	for _, c := range cases {
		got, gotOK := parseNumber([]byte(c))
		want, err := strconv.ParseFloat(c, 64)
		wantOK := err == nil && !math.IsNaN(want) && !math.IsInf(want, 0)
		if !wantOK {
			want = 0
		}
		if gotOK != wantOK || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("%q: got %v (%v), strconv %v (%v)", c, got, gotOK, want, wantOK)
		}
	}
}
