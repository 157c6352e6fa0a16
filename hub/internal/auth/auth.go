// Package auth decides who may call what on the hub.
//
// Three bearer tokens: the agent token (agents' streams and the documented
// report POST), the API token (reading; when unset, reading is open) and the
// admin token (killing processes, forgetting machines; when unset, those are
// disabled). The admin token may do everything.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/gpumon/gpumon/hub/internal/audit"
)

// Policy holds the hub's tokens.
type Policy struct {
	AgentToken string
	APIToken   string
	AdminToken string
	// LegacyOpen lets anyone POST reports to the documented route.
	LegacyOpen bool
	// Refused, when set, is told of every call the policy refuses (the
	// audit trail); ctx carries the presented token's kind.
	Refused func(ctx context.Context, method string, err error)
}

// Kinds of token a call can present.
const (
	TokenNone    = "none"
	TokenInvalid = "invalid"
	TokenAgent   = "agent"
	TokenAPI     = "api"
	TokenAdmin   = "admin"
)

// Kind says which of the hub's tokens ctx carries.
func (p *Policy) Kind(ctx context.Context) string {
	tok, ok := bearer(ctx)
	switch {
	case !ok:
		return TokenNone
	case equal(tok, p.AdminToken):
		return TokenAdmin
	case equal(tok, p.AgentToken):
		return TokenAgent
	case equal(tok, p.APIToken):
		return TokenAPI
	}
	return TokenInvalid
}

type need int

const (
	open need = iota
	reader
	agent
	legacyWriter
	admin
)

var methodNeeds = map[string]need{
	"/gpumon.v1.AgentService/Connect":        agent,
	"/gpumon.v1.FleetService/ReportGpuStats": legacyWriter,
	"/gpumon.v1.FleetService/KillProcesses":  admin,
	"/gpumon.v1.FleetService/ForgetMachine":  admin,
}

func needOf(method string) need {
	if n, ok := methodNeeds[method]; ok {
		return n
	}
	if strings.HasPrefix(method, "/gpumon.v1.") {
		return reader
	}
	return open // health, reflection
}

// Check authorises a call to method with the metadata in ctx.
func (p *Policy) Check(ctx context.Context, method string) error {
	n := needOf(method)
	if n == open || (n == reader && p.APIToken == "") || (n == legacyWriter && p.LegacyOpen) {
		return nil
	}
	if n == admin && p.AdminToken == "" {
		return status.Error(codes.PermissionDenied, "this action is disabled: the hub was started without --admin-token")
	}
	tok, ok := bearer(ctx)
	if !ok {
		return status.Error(codes.Unauthenticated, "missing bearer token (send the header \"Authorization: Bearer <token>\")")
	}
	isAdmin := equal(tok, p.AdminToken)
	isAgent := equal(tok, p.AgentToken)
	isReader := equal(tok, p.APIToken)
	switch {
	case isAdmin:
		return nil
	case !isAgent && !isReader:
		return status.Error(codes.Unauthenticated, "invalid token")
	case n == admin:
		return status.Error(codes.PermissionDenied, "this action needs the admin token")
	case (n == agent || n == legacyWriter) && !isAgent:
		return status.Error(codes.PermissionDenied, "this action needs the agent token")
	case n == reader && !isReader:
		return status.Error(codes.PermissionDenied, "reading needs the API token")
	}
	return nil
}

// CheckReadHeader authorises a plain HTTP read (PromQL API, /metrics) from
// its Authorization header. It returns 0 when allowed, else an HTTP status
// and a message.
func (p *Policy) CheckReadHeader(authorization string) (int, string) {
	code, msg := p.CheckHeader("/gpumon.v1.FleetService/ListMachines", authorization)
	if code == http.StatusUnauthorized {
		msg = "missing or invalid bearer token (send the header \"Authorization: Bearer <API token>\")"
	}
	return code, msg
}

// CheckHeader authorises a plain HTTP request to do what the gRPC method
// does (the original collector's websocket is a report POST's equal), from
// its Authorization header. It returns 0 when allowed, else an HTTP status
// and a message.
func (p *Policy) CheckHeader(method, authorization string) (int, string) {
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", authorization))
	err := p.Check(ctx, method)
	switch status.Code(err) {
	case codes.OK:
		return 0, ""
	case codes.Unauthenticated:
		return http.StatusUnauthorized, status.Convert(err).Message()
	default:
		return http.StatusForbidden, status.Convert(err).Message()
	}
}

// KindOfHeader is Kind for an HTTP Authorization header.
func (p *Policy) KindOfHeader(authorization string) string {
	return p.Kind(metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", authorization)))
}

func equal(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func bearer(ctx context.Context) (string, bool) {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		scheme, tok, ok := strings.Cut(strings.TrimSpace(v), " ")
		if ok && strings.EqualFold(scheme, "bearer") && strings.TrimSpace(tok) != "" {
			return strings.TrimSpace(tok), true
		}
	}
	return "", false
}

// UnaryInterceptor enforces the policy on unary calls; the handler's ctx
// carries the presented token's kind (audit.TokenKind).
func (p *Policy) UnaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, err := p.enforce(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

// StreamInterceptor enforces the policy on streams.
func (p *Policy) StreamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, err := p.enforce(ss.Context(), info.FullMethod)
	if err != nil {
		return err
	}
	return handler(srv, &kindStream{ServerStream: ss, ctx: ctx})
}

func (p *Policy) enforce(ctx context.Context, method string) (context.Context, error) {
	ctx = audit.WithTokenKind(ctx, p.Kind(ctx))
	err := p.Check(ctx, method)
	if err != nil && p.Refused != nil {
		p.Refused(ctx, method, err)
	}
	return ctx, err
}

type kindStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *kindStream) Context() context.Context { return s.ctx }

// AgentTokenFile is where a generated agent token is kept in the data dir.
const AgentTokenFile = "agent-token"

// LoadOrCreateAgentToken returns the agent token kept in dir, creating a
// random one (mode 0600) on first start. created is true when it was made now.
func LoadOrCreateAgentToken(dir string) (token string, created bool, err error) {
	path := filepath.Join(dir, AgentTokenFile)
	data, err := os.ReadFile(path)
	if err == nil {
		token = strings.TrimSpace(string(data))
		if token == "" {
			return "", false, fmt.Errorf("agent token file %s is empty: delete it to generate a new token", path)
		}
		return token, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", false, fmt.Errorf("read agent token: %w", err)
	}
	buf := make([]byte, 24)
	if _, err := rand.Read(buf); err != nil {
		return "", false, fmt.Errorf("generate agent token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(buf)
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("store agent token: %w", err)
	}
	return token, true, nil
}
