// Command gpumon is the fleet CLI: a gRPC client of a gpumon hub that lists
// machines, finds free GPUs, shows GPU processes, follows one machine live,
// stops processes and reports GPU usage.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/gpumon/gpumon/cli/internal/app"
)

// Set at build time (see Makefile).
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Main(ctx, os.Args[1:], app.IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr},
		app.Build{Version: version, Commit: commit, Date: date})
	stop()
	os.Exit(code)
}
