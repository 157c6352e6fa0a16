package validate

import (
	"math"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// staleNaN has the bits of Prometheus's staleness marker: a sample with it
// ends a series in history.
var staleNaN = math.Float64frombits(0x7ff0000000000002)

// TestNonFiniteFiguresAreCleaned fills every floating-point field of a report
// (and of an agent's inventory), at every depth and in one element of every
// list, with values that are not numbers, and checks that none is left: a
// field added to the proto later without a rule in validate fails here.
func TestNonFiniteFiguresAreCleaned(t *testing.T) {
	for _, bad := range []float64{math.NaN(), staleNaN, math.Inf(1), math.Inf(-1)} {
		r := &gpumonv1.Report{}
		fill(r.ProtoReflect(), bad, 0)
		r.Hostname = "gpu-01"
		if err := Report(r); err != nil {
			t.Fatalf("Report with %v figures: %v (want cleaned, not refused)", bad, err)
		}
		checkFinite(t, r.ProtoReflect(), "Report")

		inv := &gpumonv1.Inventory{}
		fill(inv.ProtoReflect(), bad, 0)
		Inventory(inv)
		checkFinite(t, inv.ProtoReflect(), "Inventory")
	}
}

func TestFiniteFiguresKept(t *testing.T) {
	power := 250.5
	r := &gpumonv1.Report{
		Hostname:   "gpu-01",
		GpuData:    []*gpumonv1.Gpu{{PowerDraw: &power}},
		SystemInfo: &gpumonv1.SystemInfo{CpuPercent: 12.5, Load: &gpumonv1.LoadAverage{Load1: -0}},
	}
	if err := Report(r); err != nil {
		t.Fatal(err)
	}
	if got := r.GetGpuData()[0].GetPowerDraw(); got != power {
		t.Errorf("power_draw = %v, want %v", got, power)
	}
	if got := r.GetSystemInfo().GetCpuPercent(); got != 12.5 {
		t.Errorf("cpu_percent = %v, want 12.5", got)
	}
}

// fill sets every float and double field of m to bad, and fills every
// message field and one element of every list of messages, down to a depth
// that covers the whole report.
func fill(m protoreflect.Message, bad float64, depth int) {
	if depth > 6 {
		return
	}
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		switch {
		case fd.IsMap():
		case fd.IsList() && fd.Kind() == protoreflect.MessageKind:
			l := m.Mutable(fd).List()
			e := l.NewElement()
			fill(e.Message(), bad, depth+1)
			l.Append(e)
		case fd.IsList() && (fd.Kind() == protoreflect.DoubleKind || fd.Kind() == protoreflect.FloatKind):
			l := m.Mutable(fd).List()
			l.Append(floatValue(fd, bad))
		case fd.IsList():
		case fd.Kind() == protoreflect.MessageKind:
			fill(m.Mutable(fd).Message(), bad, depth+1)
		case fd.Kind() == protoreflect.DoubleKind || fd.Kind() == protoreflect.FloatKind:
			m.Set(fd, floatValue(fd, bad))
		}
	}
}

func floatValue(fd protoreflect.FieldDescriptor, f float64) protoreflect.Value {
	if fd.Kind() == protoreflect.FloatKind {
		return protoreflect.ValueOfFloat32(float32(f))
	}
	return protoreflect.ValueOfFloat64(f)
}

func checkFinite(t *testing.T, m protoreflect.Message, path string) {
	t.Helper()
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := path + "." + string(fd.Name())
		switch {
		case fd.IsMap():
		case fd.IsList():
			l := v.List()
			for i := range l.Len() {
				switch fd.Kind() {
				case protoreflect.MessageKind:
					checkFinite(t, l.Get(i).Message(), name)
				case protoreflect.DoubleKind, protoreflect.FloatKind:
					if f := l.Get(i).Float(); math.IsNaN(f) || math.IsInf(f, 0) {
						t.Errorf("%s[%d] = %v after validation", name, i, f)
					}
				}
			}
		case fd.Kind() == protoreflect.MessageKind:
			checkFinite(t, v.Message(), name)
		case fd.Kind() == protoreflect.DoubleKind || fd.Kind() == protoreflect.FloatKind:
			if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
				t.Errorf("%s = %v after validation", name, f)
			}
		}
		return true
	})
}
