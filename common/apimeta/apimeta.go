// Package apimeta names the gRPC metadata keys that the hub's FleetService
// and its REST gateway exchange beyond the messages in proto/.
package apimeta

import (
	"context"
	"net"
	"net/http"
	"strings"

	"google.golang.org/grpc/metadata"
)

// GetGpuStats is answered with the fleet version its answer is for
// (FleetVersion). A caller that already holds the rendering of that version
// sends it back (IfVersion); when it is still the fleet's version the hub
// answers with an empty message and the caller reuses what it holds.
// AnyVersion as IfVersion asks for authorisation only: the caller gets an
// empty message whatever the version. ListMachines takes AnyVersion too.
const (
	FleetVersion = "gpumon-fleet-version"
	IfVersion    = "gpumon-if-version"
	AnyVersion   = "*"
)

// A ResourceExhausted error whose google.rpc.ErrorInfo has this reason (in
// Domain) is the hub refusing to store more (a cap on machines or report
// size), which REST answers with 507 Insufficient Storage; other
// ResourceExhausted errors (rates, watchers) are 429.
const (
	Domain         = "gpumon"
	CapacityReason = "CAPACITY"
)

// AuthorizeOnly is r's context carrying, as incoming gRPC metadata, what
// the hub's REST gateway would pass its service for r (the Authorization
// headers, and X-Forwarded-For with r's remote address appended; values
// that cannot be gRPC metadata left out, as the gateway leaves them) plus
// IfVersion AnyVersion: what a REST shortcut in the hub sends its service
// to have a read checked, and logged, as the route would, and nothing else
// done.
func AuthorizeOnly(r *http.Request) context.Context {
	md := metadata.Pairs(IfVersion, AnyVersion)
	for _, v := range r.Header.Values("Authorization") {
		if printable(v) {
			md.Append("authorization", v)
		}
	}
	var fwd []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		if printable(v) {
			fwd = append(fwd, v)
		}
	}
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil && printable(ip) {
		fwd = append(fwd, ip)
	}
	if len(fwd) > 0 {
		md.Set("x-forwarded-for", strings.Join(fwd, ", "))
	}
	return metadata.NewIncomingContext(r.Context(), md)
}

// printable is whether v may be a gRPC metadata value.
func printable(v string) bool {
	for i := range len(v) {
		if v[i] < 0x20 || v[i] > 0x7e {
			return false
		}
	}
	return true
}
