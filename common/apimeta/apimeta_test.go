package apimeta

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/metadata"
)

// A shortcut's call carries the caller as the gateway's route would pass
// it: the audit log names the same remote address for both.
func TestAuthorizeOnlyCarriesWhatTheRouteDoes(t *testing.T) {
	for _, c := range []struct {
		name   string
		remote string
		header map[string][]string
	}{
		{"plain", "192.0.2.7:40123", map[string][]string{"Authorization": {"Bearer tok-1"}}},
		{"behind a proxy", "192.0.2.7:40123", map[string][]string{"Authorization": {"Bearer tok-1"}, "X-Forwarded-For": {"198.51.100.1, 203.0.113.9"}}},
		{"two forwarded headers, one not printable", "[2001:db8::1]:443", map[string][]string{"X-Forwarded-For": {"198.51.100.1", "bad\x7fvalue"}}},
		{"no token", "192.0.2.7:40123", nil},
		{"no port", "192.0.2.7", map[string][]string{"Authorization": {"Bearer a", "Bearer b"}}},
		{"a tab in the token", "192.0.2.7:40123", map[string][]string{"Authorization": {"Bearer \ttok-1"}}},
		{"a token not ASCII, then a good one", "192.0.2.7:40123", map[string][]string{"Authorization": {"Bearer t\xc3\xb8k", "Bearer tok-1"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/api/v1/machines", nil)
			r.RemoteAddr = c.remote
			for k, vs := range c.header {
				for _, v := range vs {
					r.Header.Add(k, v)
				}
			}
			route, err := runtime.AnnotateIncomingContext(context.Background(), runtime.NewServeMux(), r, "/gpumon.v1.FleetService/ListMachines")
			if err != nil {
				t.Fatal(err)
			}
			want, _ := metadata.FromIncomingContext(route)
			got, _ := metadata.FromIncomingContext(AuthorizeOnly(r))
			for _, key := range []string{"authorization", "x-forwarded-for"} {
				if !slices.Equal(got.Get(key), want.Get(key)) {
					t.Errorf("%s: shortcut %q, route %q", key, got.Get(key), want.Get(key))
				}
			}
			if v := got.Get(IfVersion); !slices.Equal(v, []string{AnyVersion}) {
				t.Errorf("%s: %q, want %q", IfVersion, v, AnyVersion)
			}
		})
	}
}
