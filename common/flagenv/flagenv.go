// Package flagenv gives every flag an environment-variable fallback:
// --agent-token falls back to GPUMON_AGENT_TOKEN. A flag given on the command
// line wins over the environment.
package flagenv

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// EnvName is the variable a flag falls back to: the name in upper case
// with '-' and '.' as '_' (--query.max-samples: GPUMON_QUERY_MAX_SAMPLES),
// so that a shell can set it.
func EnvName(prefix, flagName string) string {
	return prefix + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(flagName))
}

// Parse parses args, then sets every flag not given there from its
// environment variable. An invalid environment value is an error naming it.
//
// Parse prints nothing itself: a bad flag is returned as an error for the
// caller to report in one line, and --help prints the usage and returns
// flag.ErrHelp.
func Parse(fs *flag.FlagSet, args []string, prefix string) error {
	out := fs.Output()
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.SetOutput(out)
	if errors.Is(err, flag.ErrHelp) {
		fs.Usage()
		return err
	}
	if err != nil {
		return fmt.Errorf("%w (see --help)", err)
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil || f.Name == "version" {
			return
		}
		name := EnvName(prefix, f.Name)
		if v, ok := os.LookupEnv(name); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("invalid value %q for %s: %w", v, name, e)
			}
		}
	})
	return err
}

// Prefix is the environment prefix of every gpumon flag.
const Prefix = "GPUMON_"

// Command is what every gpumon daemon does with its flags: the usage is
// summary and the flag table, args are parsed with environment fallbacks,
// and positional arguments are refused.
func Command(fs *flag.FlagSet, args []string, summary string) error {
	fs.Usage = Usage(fs, Prefix, summary)
	if err := Parse(fs, args, Prefix); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))
	}
	return nil
}

// Usage returns a usage function that prints the summary, then every flag
// with its default and environment variable.
func Usage(fs *flag.FlagSet, prefix, summary string) func() {
	return func() {
		out := fs.Output()
		fmt.Fprintln(out, strings.TrimSpace(summary))
		fmt.Fprintln(out, "\nFlags (each also read from the environment variable shown):")
		WriteFlags(out, fs, prefix, func(name string) bool { return name != "version" })
	}
}

// WriteFlags prints every flag of fs: name, argument, description, default
// and, where hasEnv says it has one, its environment variable.
func WriteFlags(w io.Writer, fs *flag.FlagSet, prefix string, hasEnv func(name string) bool) {
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  --%s", f.Name)
		if name != "" {
			fmt.Fprintf(w, " %s", name)
		}
		fmt.Fprintf(w, "\n      %s", strings.ReplaceAll(usage, "\n", "\n      "))
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		if !hasEnv(f.Name) {
			fmt.Fprintln(w)
			return
		}
		fmt.Fprintf(w, " [$%s]\n", EnvName(prefix, f.Name))
	})
}

// List splits a comma-separated flag value, dropping blanks.
func List(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// LogLevel reads a --log-level value.
func LogLevel(s string) (slog.Level, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", s)
	}
	return lvl, nil
}

// Strings is a flag that may be repeated, each value a comma-separated
// list: --rules a.yml --rules 'b/*.yml,c.yml' gives three.
type Strings []string

// String implements flag.Value.
func (s *Strings) String() string { return strings.Join(*s, ",") }

// Set implements flag.Value.
func (s *Strings) Set(v string) error {
	*s = append(*s, List(v)...)
	return nil
}
