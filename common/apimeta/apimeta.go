// Package apimeta names the gRPC metadata keys that the hub's FleetService
// and its REST gateway exchange beyond the messages in proto/.
package apimeta

import (
	"context"

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

// AuthorizeOnly is ctx carrying, as incoming gRPC metadata, the HTTP
// request's Authorization headers and IfVersion AnyVersion: what a REST
// shortcut in the hub sends its service to have a read checked, and
// nothing else done.
func AuthorizeOnly(ctx context.Context, authorization []string) context.Context {
	md := metadata.Pairs(IfVersion, AnyVersion)
	for _, v := range authorization {
		md.Append("authorization", v)
	}
	return metadata.NewIncomingContext(ctx, md)
}
