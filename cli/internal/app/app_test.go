package app

import (
	"bytes"
	"context"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint32
		bad  bool
	}{
		{"20G", 20480, false}, {"20GiB", 20480, false}, {"20gb", 20480, false}, {"512M", 512, false},
		{"1.5T", 1572864, false}, {"100", 100, false}, {"0", 0, false},
		{"lots", 0, true}, {"-1G", 0, true}, {"99999T", 0, true},
	} {
		got, err := parseSize(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d (error: %v)", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func TestParseSince(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{"7d", 7 * 24 * time.Hour, false}, {"36h", 36 * time.Hour, false}, {"1d12h", 36 * time.Hour, false},
		{"90m", 90 * time.Minute, false}, {"0s", 0, true}, {"week", 0, true}, {"xd", 0, true},
	} {
		got, err := parseSince(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("parseSince(%q) = %v, %v; want %v (error: %v)", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func TestTableFitsWidth(t *testing.T) {
	tb := &table{head: []string{"HOST", "PID", "COMMAND"}, max: []int{10, 0, 0}, right: []bool{false, true, false}}
	tb.add("a-very-long-hostname.example.com", "123", strings.Repeat("python train.py --epochs 100 ", 10))
	tb.add("b", "4", "short\tcommand\nwith newline")
	var out bytes.Buffer
	tb.write(&out, 80)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 lines, got:\n%s", out.String())
	}
	for _, l := range lines {
		if n := utf8.RuneCountInString(l); n > 80 {
			t.Errorf("line of %d columns: %q", n, l)
		}
	}
	if !strings.Contains(lines[1], "a-very-lo…") || !strings.HasSuffix(lines[1], "…") {
		t.Errorf("long cells should be elided with …: %q", lines[1])
	}
	if !strings.HasSuffix(lines[2], "short command with newline") {
		t.Errorf("whitespace in a cell should collapse to spaces: %q", lines[2])
	}
}

func TestParseConfig(t *testing.T) {
	got, err := parseConfig(strings.NewReader("# comment\n\nhub = h:7865\ntoken = \"abc\" # trailing\nadmin-token='def'\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got["hub"] != "h:7865" || got["token"] != "abc" || got["admin-token"] != "def" {
		t.Errorf("parseConfig = %v", got)
	}
	for _, bad := range []string{"hub h:7865\n", "colour = blue\n", "= x\n"} {
		if _, err := parseConfig(strings.NewReader(bad)); err == nil {
			t.Errorf("parseConfig(%q) should fail", bad)
		}
	}
}

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

// TestArgumentsAfterDoubleDash: everything after "--" is an argument, flags
// of a command to run included, wherever "--" stands.
func TestArgumentsAfterDoubleDash(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		pos    []string
		dashAt int
	}{
		{[]string{"--free", "2", "--", "sh", "-c", "exit 3"}, []string{"sh", "-c", "exit 3"}, 0},
		{[]string{"--", "--free", "2"}, []string{"--free", "2"}, 0},
		{[]string{"a", "--here", "--", "-x"}, []string{"a", "-x"}, 1},
		{[]string{"--here", "b"}, []string{"b"}, -1},
	} {
		e := &env{IO: IO{Out: io.Discard, Err: io.Discard}}
		top := flag.NewFlagSet("gpumon", flag.ContinueOnError)
		pos, err := parseCommand(waitCommand(), top, tc.args, e)
		if err != nil || !slices.Equal(pos, tc.pos) || e.dashAt != tc.dashAt {
			t.Errorf("%q: %q at %d (%v), want %q at %d", tc.args, pos, e.dashAt, err, tc.pos, tc.dashAt)
		}
	}
}

// TestBestMachine: of the machines with enough free GPUs, wait takes the
// one whose n-th best GPU is freest, and names its GPUs in index order.
func TestBestMachine(t *testing.T) {
	g := func(i int32, score float64) *gpumonv1.FreeGpu { return &gpumonv1.FreeGpu{Index: i, Score: score} }
	free := map[string]match{
		"a": {key: "a", gpus: []*gpumonv1.FreeGpu{g(5, 0.99), g(2, 0.5)}},
		"b": {key: "b", gpus: []*gpumonv1.FreeGpu{g(7, 0.9), g(3, 0.8), g(1, 0.1)}},
		"c": {key: "c", gpus: []*gpumonv1.FreeGpu{g(0, 1)}},
	}
	if _, ok := best(free, 4); ok {
		t.Error("a match with 4 GPUs where no machine has them")
	}
	m, ok := best(free, 2)
	if !ok || m.key != "b" || len(m.gpus) != 2 {
		t.Fatalf("best of 2 = %+v, want b", m)
	}
	if out := waitJSON(m, 2, 0); out.CUDAVisibleDevices != "3,7" || out.GPUs[0].GPU != 7 {
		t.Errorf("json %+v, want GPUs 7 and 3 best first, devices 3,7", out)
	}
}
