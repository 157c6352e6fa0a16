package server

import (
	"context"
	"reflect"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/caller"
)

// TestLocalFleetPassesInterceptors: every method of FleetService, called in
// process, goes through the interceptors under its own full method name and
// is refused when they refuse it (a method missing from localFleet would
// answer Unimplemented instead).
func TestLocalFleetPassesInterceptors(t *testing.T) {
	var seen []string
	deny := status.Error(codes.PermissionDenied, "denied")
	l := &localFleet{
		srv: &gpumonv1.UnimplementedFleetServiceServer{},
		unary: func(ctx context.Context, _ any, info *grpc.UnaryServerInfo, _ grpc.UnaryHandler) (any, error) {
			seen = append(seen, asCall(t, ctx, info.FullMethod))
			return nil, deny
		},
		stream: func(_ any, ss grpc.ServerStream, info *grpc.StreamServerInfo, _ grpc.StreamHandler) error {
			seen = append(seen, asCall(t, ss.Context(), info.FullMethod))
			return deny
		},
	}
	desc := gpumonv1.FleetService_ServiceDesc
	v := reflect.ValueOf(l)
	for _, m := range desc.Methods {
		t.Run(m.MethodName, func(t *testing.T) {
			fn := v.MethodByName(m.MethodName)
			req := reflect.New(fn.Type().In(1).Elem())
			out := fn.Call([]reflect.Value{reflect.ValueOf(context.Background()), req})
			if err, _ := out[1].Interface().(error); status.Code(err) != codes.PermissionDenied {
				t.Fatalf("%s: %v, want the interceptor's refusal", m.MethodName, err)
			}
			if want := "/" + desc.ServiceName + "/" + m.MethodName; seen[len(seen)-1] != want {
				t.Fatalf("interceptor saw %s, want %s", seen[len(seen)-1], want)
			}
		})
	}
	for _, s := range desc.Streams {
		t.Run(s.StreamName, func(t *testing.T) {
			fn := v.MethodByName(s.StreamName)
			req := reflect.New(fn.Type().In(0).Elem())
			out := fn.Call([]reflect.Value{req, reflect.ValueOf(fakeStream{})})
			if err, _ := out[0].Interface().(error); status.Code(err) != codes.PermissionDenied {
				t.Fatalf("%s: %v, want the interceptor's refusal", s.StreamName, err)
			}
			if want := "/" + desc.ServiceName + "/" + s.StreamName; seen[len(seen)-1] != want {
				t.Fatalf("interceptor saw %s, want %s", seen[len(seen)-1], want)
			}
		})
	}
}

// asCall checks that ctx looks like a gRPC call to method from the hub's
// in-process peer (what the audit log reads), and returns method.
func asCall(t *testing.T, ctx context.Context, method string) string {
	t.Helper()
	if p, ok := peer.FromContext(ctx); !ok || p.Addr.Network() != caller.InProcess {
		t.Errorf("%s: peer %v, want the in-process one", method, p)
	}
	if m, _ := grpc.Method(ctx); m != method {
		t.Errorf("grpc.Method = %q, want %q", m, method)
	}
	return method
}

type fakeStream struct {
	grpc.ServerStream
}

func (fakeStream) Context() context.Context           { return context.Background() }
func (fakeStream) Send(*gpumonv1.WatchResponse) error { return nil }
