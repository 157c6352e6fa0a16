package wirejson

import (
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// fieldHooks read fields whose senders disagree on the JSON form.
var fieldHooks = map[protoreflect.FullName]func(protoreflect.Message, protoreflect.FieldDescriptor, any){
	"gpumon.v1.DockerContainer.gpuDevices": fillGpuDevices,
	// A hostname that is not a JSON string (the original server broke on
	// numeric ones) is left unset, so the report is refused as lacking one.
	"gpumon.v1.Report.hostname": fillStrictString,
}

// fillStrictString sets a string field only from a JSON string.
func fillStrictString(m protoreflect.Message, fd protoreflect.FieldDescriptor, raw any) {
	if s, ok := raw.(string); ok {
		m.Set(fd, protoreflect.ValueOfString(s))
	}
}

// fillGpuDevices accepts "[0,1]", Docker's "[0 1]", "0,1", "all", a list of
// numbers or numeric strings, and writes gpuDevices as "[0,1]" (plus gpu_ids
// when the sender did not set them). Text that is not a list of indices is
// kept as it was sent.
func fillGpuDevices(m protoreflect.Message, fd protoreflect.FieldDescriptor, raw any) {
	var ids []int32
	ok := true
	switch v := raw.(type) {
	case string:
		if strings.TrimSpace(v) == "" {
			return // nothing said
		}
		ids, ok = ParseGpuDevices(v)
		if !ok {
			m.Set(fd, protoreflect.ValueOfString(v))
			return
		}
	case []any:
		for _, item := range v {
			f, isNum := asFloat(item)
			if !isNum || f < 0 || f > 1<<16 {
				continue
			}
			ids = append(ids, int32(f))
		}
	default:
		return
	}
	m.Set(fd, protoreflect.ValueOfString(FormatGpuDevices(ids)))
	idsField := m.Descriptor().Fields().ByName("gpu_ids")
	if idsField != nil && m.Get(idsField).List().Len() == 0 {
		list := m.Mutable(idsField).List()
		for _, id := range ids {
			list.Append(protoreflect.ValueOfInt32(id))
		}
	}
}

// ParseGpuDevices reads a GPU index list written as "[0,1]", "[0 1]", "0,1"
// or "" (none). It reports false for anything else.
func ParseGpuDevices(s string) ([]int32, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	ids := make([]int32, 0, len(fields))
	for _, f := range fields {
		n, err := strconv.ParseInt(strings.Trim(f, `"'`), 10, 32)
		if err != nil || n < 0 {
			return nil, false
		}
		ids = append(ids, int32(n))
	}
	return ids, true
}

// FormatGpuDevices writes ids as "[0,1]".
func FormatGpuDevices(ids []int32) string {
	b := make([]byte, 0, 2+4*len(ids))
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(id), 10)
	}
	return string(append(b, ']'))
}
