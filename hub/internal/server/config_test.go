package server

import (
	"strings"
	"testing"
	"time"

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

func TestClusterFlags(t *testing.T) {
	base := func() Config { return Config{HTTPAddr: ":0", GRPCAddr: ":0", DataDir: t.TempDir()} }
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string // "" for valid
	}{
		{"single hub", func(*Config) {}, ""},
		{"cluster", func(c *Config) {
			c.ClusterNATS = []string{"nats://a:4222", "tls://b:4222"}
			c.ClusterName, c.ClusterHub, c.ClusterKeepalive = "lab", "hub-1", 5*time.Second
		}, ""},
		{"not a nats URL", func(c *Config) { c.ClusterNATS = []string{"http://a:4222"} }, "--cluster-nats"},
		{"no host", func(c *Config) { c.ClusterNATS = []string{"nats://"} }, "--cluster-nats"},
		{"password never shown", func(c *Config) { c.ClusterNATS = []string{"http://user:s3cret-pw@a:4222"} }, "user:xxxxx@a:4222"},
		{"name with a dot", func(c *Config) { c.ClusterNATS, c.ClusterName = []string{"nats://a:4222"}, "lab.1" }, "--cluster-name"},
		{"hub name with a wildcard", func(c *Config) { c.ClusterNATS, c.ClusterHub = []string{"nats://a:4222"}, "hub>" }, "--cluster-hub"},
		{"keepalive too short", func(c *Config) { c.ClusterNATS, c.ClusterKeepalive = []string{"nats://a:4222"}, time.Millisecond }, "--cluster-keepalive"},
		{"name without NATS", func(c *Config) { c.ClusterName = "lab" }, "--cluster-name needs --cluster-nats"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.edit(&c)
			err := c.Validate()
			if tc.want == "" && err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
			if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Validate() = %v, want an error naming %s", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("Validate() = %v: shows the password", err)
			}
		})
	}
}
