package flagenv

import (
	"bytes"
	"flag"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	t.Setenv("GPUMON_AGENT_TOKEN", "from-env")
	t.Setenv("GPUMON_INTERVAL", "5s")
	t.Setenv("GPUMON_HUB", "env-hub:7865")
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	token := fs.String("agent-token", "", "token")
	interval := fs.Duration("interval", 2*time.Second, "interval")
	hub := fs.String("hub", "localhost:7865", "hub")
	if err := Parse(fs, []string{"--hub", "cli-hub:1"}, "GPUMON_"); err != nil {
		t.Fatal(err)
	}
	if *token != "from-env" || *interval != 5*time.Second || *hub != "cli-hub:1" {
		t.Errorf("got token=%q interval=%v hub=%q; the command line must win, env fill the rest", *token, *interval, *hub)
	}
}

func TestEnvName(t *testing.T) {
	for flagName, want := range map[string]string{
		"agent-token": "GPUMON_AGENT_TOKEN", "query.max-samples": "GPUMON_QUERY_MAX_SAMPLES", "hub": "GPUMON_HUB",
	} {
		if got := EnvName("GPUMON_", flagName); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", flagName, got, want)
		}
	}
}

func TestParseBadEnv(t *testing.T) {
	t.Setenv("GPUMON_INTERVAL", "soon")
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.Duration("interval", time.Second, "interval")
	err := Parse(fs, nil, "GPUMON_")
	if err == nil || !strings.Contains(err.Error(), "GPUMON_INTERVAL") {
		t.Fatalf("error %v should name GPUMON_INTERVAL", err)
	}
}

func TestUsage(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	var out bytes.Buffer
	fs.SetOutput(&out)
	fs.String("data-dir", "./gpumon-data", "where state is kept")
	Usage(fs, "GPUMON_", "gpumon-hub: the hub")()
	for _, want := range []string{"gpumon-hub: the hub", "--data-dir", "(default ./gpumon-data)", "[$GPUMON_DATA_DIR]"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, out.String())
		}
	}
}

func TestListAndLogLevel(t *testing.T) {
	if got := List(" a, ,b ,"); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("List = %q", got)
	}
	if List("") != nil {
		t.Error("List of an empty value is not empty")
	}
	if _, err := LogLevel("loud"); err == nil || !strings.Contains(err.Error(), "--log-level") {
		t.Errorf("LogLevel(loud) = %v", err)
	}
	if lvl, err := LogLevel("warn"); err != nil || lvl.String() != "WARN" {
		t.Errorf("LogLevel(warn) = %v, %v", lvl, err)
	}
}
