package loadgen

import (
	"context"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// A sample is the template with moving figures: every process field the
// template sets is copied (a field added to Process must be added to
// copyProcess), and GPU processes are the same processes as in the table.
func TestSampleCopiesTheTemplate(t *testing.T) {
	s := NewSampler(Profiles["dgxh100"], 3)
	r := s.Sample(context.Background())
	tmpl := s.template
	if len(r.GetGpuData()) != 8 || len(r.GetSystemInfo().GetProcesses()) != 300 {
		t.Fatalf("%d GPUs, %d processes", len(r.GetGpuData()), len(r.GetSystemInfo().GetProcesses()))
	}
	for i, p := range r.GetSystemInfo().GetProcesses() {
		want := proto.Clone(tmpl.GetSystemInfo().GetProcesses()[i]).(*gpumonv1.Process)
		got := proto.Clone(p).(*gpumonv1.Process)
		want.CpuPercent, got.CpuPercent = 0, 0
		if !proto.Equal(want, got) {
			t.Fatalf("process %d: got %v, want %v", i, got, want)
		}
	}
	// Every field of Process is handled by copyProcess.
	full := &gpumonv1.Process{}
	fields := full.ProtoReflect().Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		switch {
		case fd.IsList():
			full.ProtoReflect().Mutable(fd).List().Append(protoreflect.ValueOfInt32(1))
		case fd.Kind() == protoreflect.MessageKind:
			full.ProtoReflect().Mutable(fd)
		case fd.Kind() == protoreflect.StringKind:
			full.ProtoReflect().Set(fd, protoreflect.ValueOfString("x"))
		case fd.Kind() == protoreflect.BoolKind:
			full.ProtoReflect().Set(fd, protoreflect.ValueOfBool(true))
		case fd.Kind() == protoreflect.DoubleKind:
			full.ProtoReflect().Set(fd, protoreflect.ValueOfFloat64(1))
		case fd.Kind() == protoreflect.Int32Kind:
			full.ProtoReflect().Set(fd, protoreflect.ValueOfInt32(1))
		case fd.Kind() == protoreflect.Uint32Kind:
			full.ProtoReflect().Set(fd, protoreflect.ValueOfUint32(1))
		default:
			t.Fatalf("field %s of kind %s: extend this test", fd.Name(), fd.Kind())
		}
	}
	var cp gpumonv1.Process
	copyProcess(&cp, full)
	if !proto.Equal(&cp, full) {
		t.Errorf("copyProcess misses fields: got %v, want %v", &cp, full)
	}
	for g, gpu := range r.GetGpuData() {
		if len(gpu.GetProcesses()) != len(tmpl.GetGpuData()[g].GetProcesses()) {
			t.Errorf("GPU %d: %d processes, want %d", g, len(gpu.GetProcesses()), len(tmpl.GetGpuData()[g].GetProcesses()))
		}
		if gpu.GetName() == "" || gpu.GetUuid() == "" || gpu.Utilization == nil {
			t.Errorf("GPU %d: %v", g, gpu)
		}
	}
}

func BenchmarkSample(b *testing.B) {
	s := NewSampler(Profiles["dgxh100"], 1)
	b.ReportAllocs()
	for b.Loop() {
		s.Sample(context.Background())
	}
}
