package auth

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func ctxWith(token string) context.Context {
	if token == "" {
		return context.Background()
	}
	return metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+token))
}

func TestCheck(t *testing.T) {
	full := &Policy{AgentToken: "ag", APIToken: "api", AdminToken: "adm"}
	openReads := &Policy{AgentToken: "ag", AdminToken: "adm"}
	noAdmin := &Policy{AgentToken: "ag"}
	legacy := &Policy{AgentToken: "ag", LegacyOpen: true}
	const (
		connect = "/gpumon.v1.AgentService/Connect"
		post    = "/gpumon.v1.FleetService/ReportGpuStats"
		kill    = "/gpumon.v1.FleetService/KillProcesses"
		forget  = "/gpumon.v1.FleetService/ForgetMachine"
		list    = "/gpumon.v1.FleetService/ListMachines"
		health  = "/grpc.health.v1.Health/Check"
	)
	tests := []struct {
		name   string
		p      *Policy
		method string
		token  string
		want   codes.Code
	}{
		{"agent stream with agent token", full, connect, "ag", codes.OK},
		{"agent stream without token", full, connect, "", codes.Unauthenticated},
		{"agent stream with wrong token", full, connect, "nope", codes.Unauthenticated},
		{"agent stream with API token", full, connect, "api", codes.PermissionDenied},
		{"post needs agent token", full, post, "", codes.Unauthenticated},
		{"post with agent token", full, post, "ag", codes.OK},
		{"post when legacy-open", legacy, post, "", codes.OK},
		{"kill with admin token", full, kill, "adm", codes.OK},
		{"kill with agent token", full, kill, "ag", codes.PermissionDenied},
		{"kill with API token", full, kill, "api", codes.PermissionDenied},
		{"kill without token", full, kill, "", codes.Unauthenticated},
		{"kill disabled without admin token", noAdmin, kill, "ag", codes.PermissionDenied},
		{"forget with admin token", full, forget, "adm", codes.OK},
		{"read with API token", full, list, "api", codes.OK},
		{"read with admin token", full, list, "adm", codes.OK},
		{"read without token when protected", full, list, "", codes.Unauthenticated},
		{"read with agent token when protected", full, list, "ag", codes.PermissionDenied},
		{"read open without API token", openReads, list, "", codes.OK},
		{"health always open", full, health, "", codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Check(ctxWith(tt.token), tt.method)
			if got := status.Code(err); got != tt.want {
				t.Errorf("Check = %v (%v), want %v", got, err, tt.want)
			}
		})
	}
}

func TestAgentTokenCreatedOnceAndKept(t *testing.T) {
	dir := t.TempDir()
	tok, created, err := LoadOrCreateAgentToken(dir)
	if err != nil || !created || len(tok) < 20 {
		t.Fatalf("first start: %q %v %v", tok, created, err)
	}
	info, err := os.Stat(filepath.Join(dir, AgentTokenFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode: %v %v", info.Mode(), err)
	}
	again, created, err := LoadOrCreateAgentToken(dir)
	if err != nil || created || again != tok {
		t.Fatalf("second start: %q %v %v, want the same token", again, created, err)
	}
}

// TestCheckHeader: the original collector's websocket is authorised like
// its report POST.
func TestCheckHeader(t *testing.T) {
	const post = "/gpumon.v1.FleetService/ReportGpuStats"
	closed := &Policy{AgentToken: "ag", APIToken: "api", AdminToken: "adm"}
	open := &Policy{AgentToken: "ag", LegacyOpen: true}
	tests := []struct {
		p      *Policy
		header string
		want   int
	}{
		{closed, "Bearer ag", 0},
		{closed, "Bearer adm", 0},
		{closed, "", 401},
		{closed, "Bearer nope", 401},
		{closed, "Basic YWc6", 401},
		{closed, "Bearer api", 403},
		{open, "", 0},
	}
	for _, tc := range tests {
		if code, msg := tc.p.CheckHeader(post, tc.header); code != tc.want || (code != 0) != (msg != "") {
			t.Errorf("legacy open %v, %q: %d %q, want %d", tc.p.LegacyOpen, tc.header, code, msg, tc.want)
		}
	}
}
