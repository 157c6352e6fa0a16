package gateway

import (
	"context"
	"io"
	"net/http"
	"sync"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// WatchEncodedBytes bounds the encoded watch events kept for watchers that
// have yet to be sent them.
const WatchEncodedBytes = 32 << 20

// localWatch serves GET /api/v1/watch from srv.Watch in this process, as
// newline-delimited JSON in the same form as the gRPC hop's stream; an
// event sent to many watchers is encoded once.
func localWatch(api *runtime.ServeMux, srv gpumonv1.FleetServiceServer) runtime.HandlerFunc {
	var once *encodeOnce
	var onceInit sync.Once
	return func(w http.ResponseWriter, r *http.Request, _ map[string]string) {
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		_, out := runtime.MarshalerForRequest(api, r)
		onceInit.Do(func() { once = newEncodeOnce(out, WatchEncodedBytes) })
		ctx, err := runtime.AnnotateIncomingContext(ctx, api, r, gpumonv1.FleetService_Watch_FullMethodName, runtime.WithHTTPPathPattern("/api/v1/watch"))
		if err != nil {
			runtime.HTTPError(r.Context(), api, out, w, r, err)
			return
		}
		var req gpumonv1.WatchRequest
		if err := r.ParseForm(); err != nil {
			runtime.HTTPError(ctx, api, out, w, r, status.Errorf(codes.InvalidArgument, "%v", err))
			return
		}
		if err := runtime.PopulateQueryParameters(&req, r.Form, &utilities.DoubleArray{Encoding: map[string]int{}}); err != nil {
			runtime.HTTPError(ctx, api, out, w, r, status.Errorf(codes.InvalidArgument, "%v", err))
			return
		}
		s := &watchStream{ctx: ctx, msgs: make(chan proto.Message), done: make(chan struct{})}
		go func() {
			s.err = srv.Watch(&req, s)
			close(s.done)
		}()
		runtime.ForwardResponseStream(runtime.NewServerMetadataContext(ctx, runtime.ServerMetadata{}), api, once, w, r, s.recv)
		cancel()
		<-s.done
	}
}

// watchStream hands each message Watch sends to the HTTP response, one at a
// time.
type watchStream struct {
	grpc.ServerStream
	ctx  context.Context
	msgs chan proto.Message
	done chan struct{} // closed when Watch returned; err is then set
	err  error
}

func (s *watchStream) Context() context.Context { return s.ctx }

func (s *watchStream) Send(m *gpumonv1.WatchResponse) error { return s.SendMsg(m) }

func (s *watchStream) SendMsg(m any) error {
	select {
	case s.msgs <- m.(proto.Message):
		return nil
	case <-s.ctx.Done():
		return status.FromContextError(s.ctx.Err()).Err()
	}
}

func (s *watchStream) SetHeader(metadata.MD) error  { return nil }
func (s *watchStream) SendHeader(metadata.MD) error { return nil }
func (s *watchStream) SetTrailer(metadata.MD)       {}
func (s *watchStream) RecvMsg(any) error            { return io.EOF }

// recv returns the next message, io.EOF when Watch ended without error.
func (s *watchStream) recv() (proto.Message, error) {
	select {
	case m := <-s.msgs:
		return m, nil
	case <-s.done:
		if s.err != nil {
			return nil, s.err
		}
		return nil, io.EOF
	}
}
