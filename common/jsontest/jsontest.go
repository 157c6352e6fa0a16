// Package jsontest compares JSON documents by shape, type and value.
package jsontest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// Decode parses data keeping numbers as json.Number.
func Decode(t testing.TB, data []byte) any {
	t.Helper()
	v, err := Parse(data)
	if err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, data)
	}
	return v
}

// Parse reads one JSON value, keeping numbers as json.Number; anything after
// it is an error.
func Parse(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value")
	}
	return v, nil
}

// Subset reports every place where got lacks a key of want, holds a value of
// another JSON type, or a different value. Extra keys in got are allowed;
// arrays must have the same length. Numbers compare by value.
func Subset(want, got any) []string {
	var diffs []string
	subset(&diffs, "$", want, got)
	return diffs
}

// AssertSubset fails the test for each difference Subset finds.
func AssertSubset(t testing.TB, want, got any) {
	t.Helper()
	for _, d := range Subset(want, got) {
		t.Error(d)
	}
}

func subset(diffs *[]string, path string, want, got any) {
	if kind(want) != kind(got) {
		*diffs = append(*diffs, fmt.Sprintf("%s: want JSON %s %v, got %s %v", path, kind(want), want, kind(got), got))
		return
	}
	switch w := want.(type) {
	case map[string]any:
		eachKey(diffs, path, w, got.(map[string]any), subset)
	case []any:
		g := got.([]any)
		if len(w) != len(g) {
			*diffs = append(*diffs, fmt.Sprintf("%s: want %d elements, got %d", path, len(w), len(g)))
			return
		}
		for i := range w {
			subset(diffs, fmt.Sprintf("%s[%d]", path, i), w[i], g[i])
		}
	case json.Number:
		wf, _ := w.Float64()
		gf, _ := got.(json.Number).Float64()
		if wf != gf {
			*diffs = append(*diffs, fmt.Sprintf("%s: want %s, got %s", path, w, got))
		}
	default:
		if want != got {
			*diffs = append(*diffs, fmt.Sprintf("%s: want %v, got %v", path, want, got))
		}
	}
}

// eachKey calls check for every key of want, in order, with got's value
// there, and records the keys got lacks.
func eachKey(diffs *[]string, path string, want, got map[string]any, check func(diffs *[]string, path string, want, got any)) {
	for _, k := range slices.Sorted(maps.Keys(want)) {
		gv, ok := got[k]
		if !ok {
			*diffs = append(*diffs, fmt.Sprintf("%s: missing key %q", path, k))
			continue
		}
		check(diffs, path+"."+k, want[k], gv)
	}
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// Golden compares got with the file at path, or rewrites the file when
// update is true.
func Golden(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, got, "", "  "); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	pretty.WriteByte('\n')
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(want, pretty.Bytes()) {
		t.Errorf("%s differs from the output (run with -update if the change is intended)\n--- got:\n%s", path, pretty.Bytes())
	}
}

// Shape reports every place where got lacks a key of want or holds a value
// of another JSON type; values are not compared. Each element of an array
// in got is checked against the first element of want's array. A null in
// want accepts null or any value of the type its documentation names, so
// it is matched by nothing but null or a number here (the documented
// optional fields are all numbers).
func Shape(want, got any) []string {
	var diffs []string
	shape(&diffs, "$", want, got)
	return diffs
}

func shape(diffs *[]string, path string, want, got any) {
	if want == nil {
		if got != nil && kind(got) != "number" {
			*diffs = append(*diffs, fmt.Sprintf("%s: want null or number, got %s", path, kind(got)))
		}
		return
	}
	if kind(want) != kind(got) {
		*diffs = append(*diffs, fmt.Sprintf("%s: want JSON %s, got %s", path, kind(want), kind(got)))
		return
	}
	switch w := want.(type) {
	case map[string]any:
		eachKey(diffs, path, w, got.(map[string]any), shape)
	case []any:
		if len(w) == 0 {
			return
		}
		for i, gv := range got.([]any) {
			shape(diffs, fmt.Sprintf("%s[%d]", path, i), w[0], gv)
		}
	}
}
