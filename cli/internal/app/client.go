package app

import (
	"context"
	"errors"
	"fmt"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// env is what a command runs with: its flags and the hub connection.
type env struct {
	IO
	common *commonFlags
	opts   *opts
	conn   *grpc.ClientConn
	// dashAt is where "--" stood among the positional arguments (-1: none).
	dashAt int
	// exec replaces the process with a command (syscall.Exec; tests stub it).
	exec func(path string, argv, envv []string) error
}

// cliError carries an exit code with the message.
type cliError struct {
	code int
	err  error
}

func (e *cliError) Error() string { return e.err.Error() }
func (e *cliError) Unwrap() error { return e.err }

func usageError(format string, a ...any) error {
	return &cliError{code: ExitUsage, err: fmt.Errorf(format, a...)}
}

func notFound(format string, a ...any) error {
	return &cliError{code: ExitNotFound, err: fmt.Errorf(format, a...)}
}

// failed is a plain error whose details were already printed.
func failed(format string, a ...any) error {
	return &cliError{code: ExitError, err: fmt.Errorf(format, a...)}
}

func exitCode(err error) int {
	var ce *cliError
	if errors.As(err, &ce) {
		return ce.code
	}
	return ExitError
}

// bearer sends the token with every call.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}
func (bearer) RequireTransportSecurity() bool { return false }

// client connects to the hub, sending token when it is not empty.
func (e *env) client(token string) (gpumonv1.FleetServiceClient, error) {
	c := e.common
	creds := insecure.NewCredentials()
	if c.tls || c.tlsOpts.Enabled() {
		cfg, err := c.tlsOpts.Config()
		if err != nil {
			return nil, usageError("%v", err)
		}
		creds = credentials.NewTLS(cfg)
	}
	dialOpts := []grpc.DialOption{grpc.WithTransportCredentials(creds)}
	if token != "" {
		dialOpts = append(dialOpts, grpc.WithPerRPCCredentials(bearer(token)))
	}
	conn, err := grpc.NewClient(c.hub, dialOpts...)
	if err != nil {
		return nil, usageError("--hub %q: %v", c.hub, err)
	}
	e.conn = conn
	return gpumonv1.NewFleetServiceClient(conn), nil
}

func (e *env) close() {
	if e.conn != nil {
		_ = e.conn.Close()
	}
}

// callCtx bounds one request by --timeout.
func (e *env) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, e.common.timeout)
}

// readCall connects with the read token and bounds one request by
// --timeout; end releases both.
func (e *env) readCall(ctx context.Context) (c gpumonv1.FleetServiceClient, callCtx context.Context, end func(), err error) {
	if c, err = e.client(e.common.token); err != nil {
		return nil, nil, nil, err
	}
	callCtx, cancel := e.callCtx(ctx)
	return c, callCtx, func() { cancel(); e.close() }, nil
}

// rpcError turns a failed call into an error with the right exit code and a
// hint, telling an unreachable hub from an error the hub answered with.
func (e *env) rpcError(what string, err error) error {
	st, _ := status.FromError(err)
	unreachable := e.conn != nil && e.conn.GetState() != connectivity.Ready
	switch {
	case (st.Code() == codes.Unavailable || st.Code() == codes.DeadlineExceeded) && unreachable:
		return &cliError{ExitUnreachable, fmt.Errorf("cannot reach the hub at %s (is gpumon-hub running? check --hub or GPUMON_HUB, and --tls-ca): %s",
			e.common.hub, st.Message())}
	case st.Code() == codes.Unauthenticated:
		return &cliError{ExitUnauthorized, fmt.Errorf("%s: %s (set --token, GPUMON_TOKEN or token in the config file)", what, st.Message())}
	case st.Code() == codes.PermissionDenied:
		return &cliError{ExitUnauthorized, fmt.Errorf("%s: %s", what, st.Message())}
	case st.Code() == codes.NotFound:
		return &cliError{ExitNotFound, fmt.Errorf("%s: %s", what, st.Message())}
	case st.Code() == codes.Canceled:
		return &cliError{ExitError, fmt.Errorf("%s: interrupted", what)}
	}
	return &cliError{ExitError, fmt.Errorf("%s: %s", what, st.Message())}
}
