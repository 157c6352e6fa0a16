// Package app is the gpumon fleet CLI: command dispatch, flags, the hub
// connection, and one file per command.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit codes scripts can rely on.
const (
	ExitOK           = 0
	ExitError        = 1
	ExitUsage        = 2
	ExitUnreachable  = 3
	ExitUnauthorized = 4
	ExitNotFound     = 5
	ExitTimeout      = 6
)

// IO is where a command reads and writes.
type IO struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// Build identifies the binary (set by the Makefile's -ldflags).
type Build struct {
	Version, Commit, Date string
}

// command is one subcommand.
type command struct {
	name    string
	args    string // positional arguments, for usage
	summary string
	flags   func(fs *flag.FlagSet, o *opts)
	run     func(ctx context.Context, e *env, args []string) error
	// notes, when set, follow the flags in the command's --help.
	notes string
}

// opts holds every command-specific flag; each command registers the ones it uses.
type opts struct {
	minMem   string
	idle     bool
	maxUtil  percentFlag
	minFree  percentFlag
	shared   bool
	offline  bool
	user     string
	host     string
	since    string
	force    bool
	count    int
	procs    int
	onlyOnln bool
	pending  bool
	gpus     int
	here     bool
}

func commands() []*command {
	return []*command{
		lsCommand(), freeCommand(), psCommand(), topCommand(),
		killCommand(), usageCommand(), alertsCommand(), waitCommand(), completionCommand(),
	}
}

func findCommand(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

const exitCodesHelp = `Exit codes:
  0  success
  1  error (the hub answered with an error, or a kill did not succeed)
  2  usage: unknown command, bad flag or argument
  3  the hub is unreachable (not running, wrong --hub, TLS handshake failed)
  4  unauthorised: missing or invalid token, or the token lacks the right
  5  not found: no machine of that name
  6  timed out: gpumon wait --timeout passed with no match`

// Main runs the CLI and returns the process exit code.
func Main(ctx context.Context, args []string, sio IO, b Build) int {
	err := dispatch(ctx, args, sio, b)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	code := exitCode(err)
	fmt.Fprintf(sio.Err, "gpumon: %v\n", err)
	return code
}

func dispatch(ctx context.Context, args []string, sio IO, b Build) error {
	top := flag.NewFlagSet("gpumon", flag.ContinueOnError)
	top.SetOutput(sio.Err)
	(&commonFlags{}).register(top)
	showVersion := top.Bool("version", false, "print the version and exit")
	top.Usage = func() { mainUsage(sio.Out, top) }
	if err := parseSilently(top, args); err != nil {
		return err
	}
	if *showVersion {
		fmt.Fprintf(sio.Out, "gpumon %s (commit %s, built %s)\n", b.Version, b.Commit, b.Date)
		return nil
	}
	rest := top.Args()
	if len(rest) == 0 {
		mainUsage(sio.Err, top)
		return usageError("no command given")
	}
	if rest[0] == "help" {
		if len(rest) > 1 && findCommand(rest[1]) != nil {
			rest = []string{rest[1], "--help"}
		} else {
			mainUsage(sio.Out, top)
			return nil
		}
	}
	cmd := findCommand(rest[0])
	if cmd == nil {
		return usageError("unknown command %q (see gpumon --help)", rest[0])
	}
	e := &env{IO: sio}
	pos, err := parseCommand(cmd, top, rest[1:], e)
	if err != nil {
		return err
	}
	return cmd.run(ctx, e, pos)
}

func mainUsage(w io.Writer, top *flag.FlagSet) {
	fmt.Fprintln(w, "gpumon: the command line of a gpumon GPU fleet (talks to the hub over gRPC).")
	fmt.Fprintln(w, "\nUsage: gpumon [flags] COMMAND [flags] [arguments]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-26s %s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
	}
	fmt.Fprintln(w, "\n`gpumon COMMAND --help` lists a command's own flags.")
	printFlags(w, top)
	fmt.Fprintln(w)
	fmt.Fprintln(w, configHelp)
	fmt.Fprintln(w)
	fmt.Fprintln(w, exitCodesHelp)
}

// parseSilently parses without the flag package's own printing: --help
// prints the usage once and returns flag.ErrHelp; a bad flag is returned as
// a usage error for Main to report in one line.
func parseSilently(fs *flag.FlagSet, args []string) error {
	out, usage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(out)
	fs.Usage = usage
	if errors.Is(err, flag.ErrHelp) {
		fs.Usage()
		return err
	}
	if err != nil {
		return usageError("%v (see --help)", err)
	}
	return nil
}

// isTerminal reports whether w is a terminal (gpumon top redraws in place there).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
