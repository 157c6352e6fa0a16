package gateway

import (
	"context"
	"errors"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gpumon/gpumon/common/apimeta"
)

// HTTPStatus maps a gRPC code to the HTTP status of the documented API.
func HTTPStatus(c codes.Code) int {
	switch c {
	case codes.OK:
		return http.StatusOK
	case codes.InvalidArgument, codes.OutOfRange:
		return http.StatusBadRequest
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.NotFound:
		return http.StatusNotFound
	case codes.AlreadyExists, codes.Aborted, codes.FailedPrecondition:
		return http.StatusConflict
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests
	case codes.Unavailable:
		return http.StatusServiceUnavailable
	case codes.DeadlineExceeded:
		return http.StatusGatewayTimeout
	case codes.Unimplemented:
		return http.StatusNotImplemented
	case codes.Canceled:
		return 499
	}
	return http.StatusInternalServerError
}

// WriteError writes the documented error body with the given HTTP status.
func WriteError(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	h.Del("Content-Length")
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	if code == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="gpumon"`)
	}
	w.WriteHeader(code)
	_, _ = w.Write(append(errorBody(msg), '\n'))
}

// handleError renders every gRPC error as the documented body.
func handleError(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	if tooLarge(r) {
		WriteError(w, http.StatusRequestEntityTooLarge, "request body too large")
		return
	}
	WriteGRPCError(w, err)
}

// isCapacity: the hub refused to store more (see apimeta.CapacityReason).
func isCapacity(st *status.Status) bool {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetReason() == apimeta.CapacityReason && info.GetDomain() == apimeta.Domain {
			return true
		}
	}
	return false
}

// routingError answers unknown routes and methods.
func (t routeTable) routingError(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, code int) {
	switch code {
	case http.StatusMethodNotAllowed:
		MethodNotAllowed(w, r, t.allowed(r.URL.Path)...)
	case http.StatusNotFound:
		WriteError(w, code, "no such route: "+r.URL.Path)
	default:
		WriteError(w, code, http.StatusText(code))
	}
}

// streamError turns an error inside a server stream into a final chunk.
func streamError(_ context.Context, err error) *status.Status {
	if errors.Is(err, context.Canceled) {
		return status.New(codes.Canceled, "stream closed")
	}
	return status.Convert(err)
}

// WriteGRPCError writes a service's error as the documented body, with the
// HTTP status its code maps to (507 when the hub refused to store more).
func WriteGRPCError(w http.ResponseWriter, err error) {
	st := status.Convert(err)
	msg := st.Message()
	if st.Code() == codes.Unavailable {
		msg = "hub unavailable: " + msg
	}
	code := HTTPStatus(st.Code())
	if isCapacity(st) {
		code = http.StatusInsufficientStorage
	}
	WriteError(w, code, msg)
}
