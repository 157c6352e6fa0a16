package app

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func u32(v uint32) *uint32   { return &v }
func f64(v float64) *float64 { return &v }

// topFixture is one update of a busy 4-GPU machine: loads in every colour
// band, a GPU without a temperature, long command lines, a container and a
// screen session.
func topFixture() TopJSON {
	return TopJSON{
		Type: "sample",
		Machine: MachineJSON{Host: "gpu-lab-07.cluster.example.org", Online: true, IPAddress: "10.1.2.7",
			GPUs: 4, GPUsBusy: 3, GPUMemoryUsed: 150000, GPUMemoryTotal: 327680, CPUPercent: 63.4, MemoryPercent: 41.2,
			DiskPercent: 77.9, LastSeen: time.Date(2026, 11, 29, 14, 5, 9, 0, time.UTC)},
		GPUs: []GPUJSON{
			{Index: 0, Name: "NVIDIA H100 80GB HBM3", Utilization: u32(97), MemoryUsed: 79000, MemoryTotal: 81920,
				Temperature: u32(86), PowerDraw: f64(690), PowerLimit: f64(700)},
			{Index: 1, Name: "NVIDIA H100 80GB HBM3", Utilization: u32(55), MemoryUsed: 45000, MemoryTotal: 81920,
				Temperature: u32(72), PowerDraw: f64(410), PowerLimit: f64(700)},
			{Index: 2, Name: "NVIDIA H100 80GB HBM3", Utilization: u32(3), MemoryUsed: 26000, MemoryTotal: 81920,
				Temperature: u32(41), PowerDraw: f64(120), PowerLimit: f64(700)},
			{Index: 3, Name: "NVIDIA H100 80GB HBM3", MemoryUsed: 0, MemoryTotal: 81920},
		},
		Processes: []ProcessJSON{
			{Host: "gpu-lab-07", PID: 4242, User: "alice", GPUs: []int32{0}, GPUMemory: 79000, SMUtilization: u32(95),
				Session: &SessionJSON{Kind: "screen", Name: "train.v2", User: "alice"}, Name: "python",
				Command: "python train.py --config configs/very/long/path/to/experiment-2026-11-29.yaml --epochs 100"},
			{Host: "gpu-lab-07", PID: 5150, User: "bob-the-long-username", GPUs: []int32{1}, GPUMemory: 45000,
				SMUtilization: u32(52), ContainerID: "a1b2c3d4e5f6", Container: "llm-finetune", Name: "torchrun",
				Command: "torchrun --nproc_per_node 1 finetune.py"},
			{Host: "gpu-lab-07", PID: 777, User: "carol", GPUs: []int32{2}, GPUMemory: 26000, Name: "jupyter",
				Command: "/opt/conda/bin/python -m ipykernel_launcher -f /home/carol/.local/share/jupyter/runtime/kernel.json"},
		},
	}
}

func TestRenderTopGolden(t *testing.T) {
	tests := []struct {
		name   string
		s      screen
		before func(v *topView)
	}{
		{"plain-60", screen{width: 60, maxProcs: 15}, nil},
		{"plain-80", screen{width: 80, maxProcs: 15}, nil},
		{"plain-120", screen{width: 120, maxProcs: 15}, nil},
		{"plain-80-procs-2", screen{width: 80, maxProcs: 2}, nil},
		{"live-colour-60", screen{width: 60, height: 24, live: true, colour: true, maxProcs: 15}, nil},
		{"live-colour-100", screen{width: 100, height: 24, live: true, colour: true, maxProcs: 15}, nil},
		{"live-nocolour-80", screen{width: 80, height: 24, live: true, maxProcs: 15}, nil},
		{"live-short-screen", screen{width: 80, height: 14, live: true, maxProcs: 15}, func(v *topView) {
			v.press(keyEvent{k: keyEnd})
		}},
		{"live-sorted-by-pid-selected", screen{width: 80, height: 24, live: true, maxProcs: 15}, func(v *topView) {
			v.press(keyEvent{k: keyRune, r: 'p'})
			v.press(keyEvent{k: keyDown})
		}},
		{"live-confirm-kill", screen{width: 80, height: 24, live: true, colour: true, maxProcs: 15}, func(v *topView) {
			v.press(keyEvent{k: keyRune, r: 'k'})
		}},
		{"live-kill-result", screen{width: 80, height: 24, live: true, colour: true, maxProcs: 15}, func(v *topView) {
			v.press(keyEvent{k: keyRune, r: 'k'})
			v.press(keyEvent{k: keyRune, r: 'y'})
			v.killDone("PID 4242: success: signalled with SIGTERM")
		}},
		{"live-help-60", screen{width: 60, height: 24, live: true, maxProcs: 15}, func(v *topView) {
			v.press(keyEvent{k: keyRune, r: '?'})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.s.loc = time.UTC
			v := &topView{canKill: true}
			v.setUpdate(topFixture())
			renderTop(v, tc.s) // sizes the process window, as the first frame does
			if tc.before != nil {
				tc.before(v)
			}
			lines := renderTop(v, tc.s)
			checkFits(t, lines, tc.s)
			golden(t, filepath.Join("testdata", "top", tc.name+".golden"), strings.Join(lines, "\n")+"\n")
		})
	}
}

var sgr = regexp.MustCompile("\x1b\\[[0-9;]*m")

// checkFits: no line is wider than the screen (it would wrap), no colour
// where there should be none, and a live frame fits the screen's height.
func checkFits(t *testing.T, lines []string, s screen) {
	t.Helper()
	for _, l := range lines {
		visible := sgr.ReplaceAllString(l, "")
		if n := utf8.RuneCountInString(visible); n > s.width {
			t.Errorf("line of %d columns on a %d-column screen: %q", n, s.width, visible)
		}
		if !s.colour && visible != l {
			t.Errorf("colour without colour: %q", l)
		}
	}
	if s.live && len(lines) > s.height {
		t.Errorf("%d lines on a %d-line screen", len(lines), s.height)
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestColourOff(t *testing.T) {
	for _, tc := range []struct {
		noColor, term string
		want          bool
	}{{"", "xterm-256color", true}, {"1", "xterm", false}, {"", "dumb", false}} {
		t.Setenv("NO_COLOR", tc.noColor)
		t.Setenv("TERM", tc.term)
		if got := colourAllowed(); got != tc.want {
			t.Errorf("NO_COLOR=%q TERM=%q: colour %v, want %v", tc.noColor, tc.term, got, tc.want)
		}
	}
}
