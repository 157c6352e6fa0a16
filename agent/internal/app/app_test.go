package app

import (
	"strings"
	"testing"
	"time"
)

func TestValidateMetricsAddr(t *testing.T) {
	cases := []struct {
		addr    string
		once    bool
		wantErr string
	}{
		{"", false, ""},
		{":9400", false, ""},
		{"127.0.0.1:9400", false, ""},
		{"[::1]:9400", false, ""},
		{"node-7.lab:9400", false, ""},
		{"9400", false, "want [host]:port"},
		{":0", false, "want [host]:port"},
		{":65536", false, "want [host]:port"},
		{"host:", false, "want [host]:port"},
		{":metrics", false, "want [host]:port"},
		{":9400", true, "not --once"},
	}
	for _, tc := range cases {
		c := Config{Hub: "hub:7865", Interval: 2 * time.Second, MetricsAddr: tc.addr, Once: tc.once}
		err := c.Validate()
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%q: %v", tc.addr, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "--metrics-addr")):
			t.Errorf("%q once=%v: error %v, want one naming --metrics-addr with %q", tc.addr, tc.once, err, tc.wantErr)
		}
	}
}
