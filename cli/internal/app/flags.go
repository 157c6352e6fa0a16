package app

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gpumon/gpumon/common/flagenv"
	"github.com/gpumon/gpumon/common/tlsclient"
)

const envPrefix = "GPUMON_"

// commonFlags are accepted before and after the command name.
type commonFlags struct {
	hub, token, adminToken, config string
	tlsOpts                        tlsclient.Options
	tls, json                      bool
	timeout                        time.Duration
	// timeoutSet: --timeout was given on the command line (gpumon wait
	// then waits that long at most, else until a match).
	timeoutSet bool
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.hub, "hub", "localhost:7865", "`address` of the hub's gRPC port")
	fs.StringVar(&c.token, "token", "", "`token` sent to the hub (the API token when reads are protected)")
	fs.StringVar(&c.adminToken, "admin-token", "", "`token` for kill (the hub's --admin-token); --token is used when empty")
	fs.StringVar(&c.config, "config", "", "config `file` (default: $XDG_CONFIG_HOME/gpumon/config, else ~/.config/gpumon/config)")
	fs.BoolVar(&c.tls, "tls", false, "connect with TLS, trusting the system's CAs")
	c.tlsOpts.Register(fs)
	fs.BoolVar(&c.json, "json", false, "print JSON (a stable shape, see docs/cli.md) instead of tables")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "how long to wait for the hub to answer")
}

// commonNames are the flags of commonFlags, in the order they are printed.
var commonNames = map[string]bool{"hub": true, "token": true, "admin-token": true, "config": true,
	"tls": true, "tls-ca": true, "tls-cert": true, "tls-key": true, "tls-server-name": true,
	"json": true, "timeout": true}

// parseCommand parses a command's arguments (flags may follow positional
// arguments), carrying over the common flags given before the command, then
// fills the rest from the environment and the config file.
func parseCommand(cmd *command, top *flag.FlagSet, args []string, e *env) ([]string, error) {
	fs := flag.NewFlagSet("gpumon "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(e.Err)
	e.common = &commonFlags{}
	e.common.register(fs)
	e.dashAt = -1
	e.opts = &opts{}
	if cmd.flags != nil {
		cmd.flags(fs, e.opts)
	}
	fs.Usage = func() { commandUsage(e.Out, fs, cmd) }
	given := map[string]bool{}
	var err error
	top.Visit(func(f *flag.Flag) {
		if err == nil && f.Name != "version" {
			err = fs.Set(f.Name, f.Value.String())
			given[f.Name] = true
		}
	})
	if err != nil {
		return nil, usageError("%v", err)
	}
	var pos []string
	for {
		if err := parseSilently(fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		// The flag package stops at "--" and drops it: what follows is
		// arguments only (gpumon wait -- COMMAND -c ...).
		if k := len(args) - len(rest); k > 0 && args[k-1] == "--" {
			e.dashAt = len(pos)
			pos = append(pos, rest...)
			break
		}
		if args = rest; len(args) == 0 {
			break
		}
		pos, args = append(pos, args[0]), args[1:]
	}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	e.common.timeoutSet = given["timeout"]
	if err := fromEnv(fs, given); err != nil {
		return nil, err
	}
	if err := e.common.applyConfig(given); err != nil {
		return nil, err
	}
	return pos, nil
}

// fromEnv sets every common flag not given on the command line from
// GPUMON_<NAME>. A command's own flags (filters such as --user) have no
// variable: a stray GPUMON_USER must not filter silently.
func fromEnv(fs *flag.FlagSet, given map[string]bool) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := flagenv.EnvName(envPrefix, f.Name)
		v, ok := os.LookupEnv(name)
		if given[f.Name] || err != nil || !ok || !commonNames[f.Name] {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = usageError("invalid value %q for %s: %v", v, name, e)
		}
		given[f.Name] = true
	})
	return err
}

func commandUsage(w io.Writer, fs *flag.FlagSet, cmd *command) {
	fmt.Fprintf(w, "gpumon %s: %s\n\nUsage: %s\n", cmd.name, cmd.summary,
		strings.TrimSpace("gpumon "+cmd.name+" [flags] "+cmd.args))
	own := flag.NewFlagSet("", flag.ContinueOnError)
	fs.VisitAll(func(f *flag.Flag) {
		if !commonNames[f.Name] {
			own.Var(f.Value, f.Name, f.Usage)
		}
	})
	if cmd.flags != nil {
		fmt.Fprintln(w, "\nFlags of this command:")
		writeFlags(w, own)
	}
	if cmd.notes != "" {
		fmt.Fprintln(w, "\n"+cmd.notes)
	}
	fmt.Fprintln(w, "\nCommon flags: see gpumon --help.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, exitCodesHelp)
}

func printFlags(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(w, "\nCommon flags (before or after the command; each also read from the environment variable shown):")
	writeFlags(w, fs)
}

// writeFlags prints flags the way every gpumon binary does: name, argument,
// description, default and environment variable.
func writeFlags(w io.Writer, fs *flag.FlagSet) {
	flagenv.WriteFlags(w, fs, envPrefix, func(name string) bool { return commonNames[name] })
}
