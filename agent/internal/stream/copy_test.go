package stream

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// setEvery gives every field of m, and of the messages under it down to
// depth, a value that is not its default: a list one element long.
func setEvery(m protoreflect.Message, depth int) {
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		switch {
		case fd.IsMap():
			continue // none in these messages; a map added fails the equality below
		case fd.IsList():
			l := m.Mutable(fd).List()
			if fd.Kind() == protoreflect.MessageKind {
				e := l.NewElement()
				if depth > 0 {
					setEvery(e.Message(), depth-1)
				}
				l.Append(e)
			} else {
				l.Append(scalar(fd))
			}
		case fd.Kind() == protoreflect.MessageKind:
			sub := m.Mutable(fd).Message()
			if depth > 0 {
				setEvery(sub, depth-1)
			}
		default:
			m.Set(fd, scalar(fd))
		}
	}
}

func scalar(fd protoreflect.FieldDescriptor) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(true)
	case protoreflect.EnumKind:
		return protoreflect.ValueOfEnum(1)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(7)
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(7)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(7)
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(7)
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(7.5)
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(7.5)
	case protoreflect.StringKind:
		return protoreflect.ValueOfString("x")
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte("x"))
	}
	panic("a field kind setEvery does not know: " + fd.Kind().String())
}

// TestForSendingCopiesEveryField: forSending's hand-written copies carry
// every field of the snapshot, its report, system info, GPUs and collector
// statuses (a field added to one of them and not to forSending fails here),
// and the messages the send path changes are new ones.
func TestForSendingCopiesEveryField(t *testing.T) {
	s := &gpumonv1.Snapshot{}
	setEvery(s.ProtoReflect(), 3)
	c := forSending(s)
	if !proto.Equal(c, s) {
		t.Fatalf("the copy lost a field:\n%v\nwant\n%v", c, s)
	}
	if c == s || c.Report == s.Report || c.Report.SystemInfo == s.Report.SystemInfo ||
		c.Report.GpuData[0] == s.Report.GpuData[0] || c.Report.Collectors[0] == s.Report.Collectors[0] {
		t.Fatal("the copy shares a message the send path changes")
	}
	// Each message checked has every field set, so a field missed by the
	// copy shows as a difference above.
	for _, m := range []proto.Message{s, s.Report, s.Report.SystemInfo, s.Report.GpuData[0], s.Report.Collectors[0]} {
		fields := m.ProtoReflect().Descriptor().Fields()
		for i := range fields.Len() {
			if fd := fields.Get(i); !m.ProtoReflect().Has(fd) {
				t.Errorf("%s.%s was not set by the test", m.ProtoReflect().Descriptor().Name(), fd.Name())
			}
		}
	}
}

// TestForSendingNilEntries: nil GPUs and collector statuses in a report are
// copied as nil (sent as empty messages), not dereferenced.
func TestForSendingNilEntries(t *testing.T) {
	s := &gpumonv1.Snapshot{Seq: 1, Report: &gpumonv1.Report{
		GpuData: []*gpumonv1.Gpu{nil, {Id: 1}}, Collectors: []*gpumonv1.CollectorStatus{nil, {Name: "gpu"}}}}
	if c := forSending(s); !proto.Equal(c, s) {
		t.Fatalf("the copy differs:\n%v\n%v", c, s)
	}
}
