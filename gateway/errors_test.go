package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gpumon/gpumon/common/apimeta"
)

func TestErrorStatus(t *testing.T) {
	capacity, _ := status.New(codes.ResourceExhausted, "the hub holds its maximum of 2 machines").
		WithDetails(&errdetails.ErrorInfo{Reason: apimeta.CapacityReason, Domain: apimeta.Domain})
	other, _ := status.New(codes.ResourceExhausted, "slow down").WithDetails(&errdetails.ErrorInfo{Reason: "OTHER", Domain: apimeta.Domain})
	tests := []struct {
		name string
		err  error
		code int
	}{
		{"a cap on what the hub stores", capacity.Err(), http.StatusInsufficientStorage},
		{"a rate", status.Error(codes.ResourceExhausted, "slow down"), http.StatusTooManyRequests},
		{"another reason", other.Err(), http.StatusTooManyRequests},
		{"not found", status.Error(codes.NotFound, "no machine"), http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			handleError(context.Background(), nil, nil, w, httptest.NewRequest(http.MethodPost, "/api/report-gpu-stats", nil), tt.err)
			if w.Code != tt.code || !strings.Contains(w.Body.String(), `"status":"error"`) {
				t.Errorf("%d %s, want %d and the error body", w.Code, w.Body, tt.code)
			}
		})
	}
}
