package jsontest

import (
	"slices"
	"testing"
)

func TestSubsetAndShape(t *testing.T) {
	tests := []struct {
		name, want, got string
		subset, shape   []string
	}{
		{"equal", `{"a":1,"b":[true]}`, `{"a":1.0,"b":[true]}`, nil, nil},
		{"extra keys in got are allowed", `{"a":1}`, `{"a":1,"z":2}`, nil, nil},
		{"missing keys, in key order", `{"b":1,"a":2,"c":{"d":3}}`, `{"c":{}}`,
			[]string{`$: missing key "a"`, `$: missing key "b"`, `$.c: missing key "d"`},
			[]string{`$: missing key "a"`, `$: missing key "b"`, `$.c: missing key "d"`}},
		{"another type", `{"a":"1"}`, `{"a":1}`,
			[]string{`$.a: want JSON string 1, got number 1`}, []string{`$.a: want JSON string, got number`}},
		{"another value: only Subset minds", `{"a":[1,2]}`, `{"a":[1,3]}`, []string{`$.a[1]: want 2, got 3`}, nil},
		{"array lengths: Subset wants the same, Shape checks each against the first", `{"a":[{"x":1}]}`, `{"a":[{"x":1},{}]}`,
			[]string{`$.a: want 1 elements, got 2`}, []string{`$.a[1]: missing key "x"`}},
		{"null in want: Shape takes a number", `{"a":null}`, `{"a":5}`, []string{`$.a: want JSON null <nil>, got number 5`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, got := Decode(t, []byte(tt.want)), Decode(t, []byte(tt.got))
			if d := Subset(want, got); !slices.Equal(d, tt.subset) {
				t.Errorf("Subset = %q, want %q", d, tt.subset)
			}
			if d := Shape(want, got); !slices.Equal(d, tt.shape) {
				t.Errorf("Shape = %q, want %q", d, tt.shape)
			}
		})
	}
}
