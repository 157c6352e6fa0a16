package app

import (
	"bytes"
	"context"
	"flag"
	"slices"
	"testing"
)

func TestFlagsAnywhere(t *testing.T) {
	t.Setenv("GPUMON_HUB", "env-hub:1")
	t.Setenv("GPUMON_TOKEN", "env-token")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	var out bytes.Buffer
	e := &env{IO: IO{Out: &out, Err: &out}}
	top := newTopFlags(t, "--json", "--hub", "top-hub:2")
	pos, err := parseCommand(findCommand("kill"), top, []string{"gpu-a", "--force", "12", "--", "-13"}, e)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pos, []string{"gpu-a", "12", "-13"}) {
		t.Errorf("positional = %v", pos)
	}
	if e.common.hub != "top-hub:2" || !e.common.json || !e.opts.force || e.common.token != "env-token" {
		t.Errorf("flags before and after the command, then env: hub=%q json=%v force=%v token=%q",
			e.common.hub, e.common.json, e.opts.force, e.common.token)
	}
}

func newTopFlags(t *testing.T, args ...string) *flag.FlagSet {
	t.Helper()
	fs := flag.NewFlagSet("gpumon", flag.ContinueOnError)
	(&commonFlags{}).register(fs)
	fs.Bool("version", false, "")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestExitCodeOfUsageErrors(t *testing.T) {
	var out bytes.Buffer
	code := Main(context.Background(), []string{"free", "--max-util", "150"}, IO{Out: &out, Err: &out}, Build{})
	if code != ExitUsage {
		t.Errorf("--max-util 150: exit %d, want %d (%s)", code, ExitUsage, out.String())
	}
}
