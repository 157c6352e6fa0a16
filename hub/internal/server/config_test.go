package server

import (
	"strings"
	"testing"

	"github.com/gpumon/gpumon/hub/internal/service"
)

func TestValidateCapacity(t *testing.T) {
	tests := []struct {
		name string
		cap  service.Capacity
		err  string // empty: valid
	}{
		{"defaults", service.Capacity{}, ""},
		{"the largest answer that fits", service.Capacity{MaxMachines: 4000, MaxBytes: 512 << 10}, ""},
		{"an answer over 2 GiB", service.Capacity{MaxMachines: 4000, MaxBytes: 1 << 20}, "would not fit in one answer"},
		{"a report over a gRPC message", service.Capacity{MaxMachines: 10, MaxBytes: 9 << 20}, "--max-report-bytes"},
		{"more processes than any report keeps", service.Capacity{MaxProcesses: 20001}, "--max-report-processes 20001"},
		{"negative", service.Capacity{MaxMachines: -1}, "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{HTTPAddr: ":1", GRPCAddr: ":2", DataDir: t.TempDir(), Capacity: tt.cap}
			err := c.Validate()
			if (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("Validate() = %v, want %q", err, tt.err)
			}
		})
	}
	if got, want := (service.Capacity{}).ServedBytes(), int64(1000)*(512<<10+512)+64<<10; got != want {
		t.Errorf("ServedBytes at the defaults = %d, want %d", got, want)
	}
}
