package wirejson_test

import (
	"encoding/json"
	"os"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gpumon/gpumon/common/wirejson"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// FuzzLenient: no input panics the tolerant report parser, and whatever it
// accepts renders to valid JSON that parses back to the same report.
func FuzzLenient(f *testing.F) {
	for _, p := range []string{"testdata/python_collector.json", "testdata/documented_report.json"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r gpumonv1.Report
		if err := (wirejson.Lenient{}).Unmarshal(data, &r); err != nil {
			return
		}
		out := wirejson.Marshal(&r)
		if !json.Valid(out) {
			t.Fatalf("rendered invalid JSON: %q", out)
		}
		var back gpumonv1.Report
		if err := (wirejson.Lenient{}).Unmarshal(out, &back); err != nil {
			t.Fatalf("rendered JSON does not parse back: %v", err)
		}
		if !proto.Equal(&r, &back) {
			t.Fatalf("round trip changed the report:\n%v\n%v", &r, &back)
		}
	})
}
