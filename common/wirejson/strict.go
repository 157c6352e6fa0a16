package wirejson

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// strictFields are read exactly or not at all: a value that is not what the
// field means is an error naming it, never coerced. A kill request's pids
// are the case: coercion signalled PID 1786 for 1785.5 and PID 1 for true.
var strictFields = map[protoreflect.FullName]func(name string, raw any) error{
	"gpumon.v1.KillProcessesRequest.pids": checkPIDs,
}

// checkStrict checks the strict fields among a message's own fields.
func checkStrict(md protoreflect.MessageDescriptor, obj map[string]any) error {
	fields := md.Fields()
	for key, raw := range obj {
		fd := fields.ByName(protoreflect.Name(key))
		if fd == nil {
			fd = fields.ByJSONName(key)
		}
		if fd == nil {
			continue
		}
		if check, ok := strictFields[fd.FullName()]; ok {
			if err := check(key, raw); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkPIDs wants a list of whole numbers from 1 to 2147483647 written as
// such (no fraction, exponent, sign or quotes).
func checkPIDs(name string, raw any) error {
	if raw == nil {
		return nil
	}
	list, ok := raw.([]any)
	if !ok {
		return fmt.Errorf("%s must be a list of process ids, not %s", name, describe(raw))
	}
	for i, item := range list {
		n, isNum := item.(json.Number)
		v, err := strconv.ParseInt(string(n), 10, 64)
		if !isNum || err != nil || v < 1 || v > math.MaxInt32 {
			return fmt.Errorf("%s[%d] = %s is not a process id (want a whole number from 1 to %d)", name, i, describe(item), math.MaxInt32)
		}
	}
	return nil
}

// describe writes a JSON value back as the sender wrote it, briefly.
func describe(raw any) string {
	switch v := raw.(type) {
	case nil:
		return "null"
	case json.Number:
		return v.String()
	case string:
		return strconv.Quote(v)
	case bool:
		return strconv.FormatBool(v)
	case []any:
		return "a list"
	}
	return "an object"
}
