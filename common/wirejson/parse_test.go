package wirejson

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// decodeStd is what Lenient used before parseValue: encoding/json with
// UseNumber, then More for trailing data.
func decodeStd(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errStdTrailing
	}
	return v, nil
}

var errStdTrailing = json.Unmarshal([]byte("}"), new(any))

func sameAsStd(t *testing.T, data []byte) {
	t.Helper()
	want, wantErr := decodeStd(data)
	got, gotErr := parseValue(data)
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("%q: encoding/json error %v, parseValue error %v", data, wantErr, gotErr)
	}
	if wantErr == nil && !reflect.DeepEqual(want, got) {
		t.Fatalf("%q: encoding/json %#v, parseValue %#v", data, want, got)
	}
}

// parseValue accepts exactly what encoding/json does and gives the same values.
func TestParseValueMatchesEncodingJSON(t *testing.T) {
	cases := []string{
		`{}`, `[]`, `{"a":1}`, ` {"a" : [1, -2.5e+3, 0, -0, 1E2, true, false, null, "x"]} `, `{"a":{"b":{"c":[]}}}`,
		`{"a":1,"a":2}`, `"s"`, `12`, `null`, `{"a":1}}`, `{"a":1}]`, `{"a":1} x`, `{"a":1} {}`, `{"a":1}x`,
		`{"s":"\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t"}`, `{"s":"\ud83d"}`, `{"s":"\ude00x"}`, `{"s":"\ud83d\u0041"}`,
		"{\"s\":\"\xff\xfe ok \xc3\"}", "{\"s\":\"a\x01\"}", `{"s":"\x"}`, `{"s":"\u12"}`, `{"s":"\u12G4"}`,
		`{"n":01}`, `{"n":-}`, `{"n":1.}`, `{"n":.5}`, `{"n":1e}`, `{"n":1e+}`, `{"n":+1}`, `{"n":-01.5}`,
		`{"a":tru}`, `{"a":nul}`, `{"a":true1}`, `{"a" 1}`, `{"a":1,}`, `[1,]`, `{,}`, `{"a":1 "b":2}`,
		``, ` `, `{`, `[`, `{"a"`, `{"a":`, `"abc`, "\ufeff{}", `{"实验":"v2"}`, strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
		strings.Repeat("[", 9999) + strings.Repeat("]", 9999), strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
		`{"a":` + strings.Repeat(`{"b":`, 10000) + "1" + strings.Repeat("}", 10001),
	}
	for _, c := range cases {
		sameAsStd(t, []byte(c))
	}
	for _, p := range []string{"testdata/python_collector.json", "testdata/documented_report.json"} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sameAsStd(t, data)
	}
}

func FuzzParseValue(f *testing.F) {
	for _, s := range []string{`{"a":[1,"\u00e9",null,true]}`, `{"s":"\ud83d\ude00"}`, `[1e5,-0.5]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { sameAsStd(t, data) })
}

func BenchmarkParseReport(b *testing.B) {
	data, err := os.ReadFile("testdata/documented_report.json")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encoding/json", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			_, _ = decodeStd(data)
		}
	})
	b.Run("parseValue", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			_, _ = parseValue(data)
		}
	})
}
