package app

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseKeys(t *testing.T) {
	r := func(c rune) keyEvent { return keyEvent{k: keyRune, r: c} }
	tests := []struct {
		name string
		in   string
		want []keyEvent
	}{
		{"letters", "kmq", []keyEvent{r('k'), r('m'), {k: keyQuit}}},
		{"arrows (xterm)", "\x1b[A\x1b[B", []keyEvent{{k: keyUp}, {k: keyDown}}},
		{"arrows (application mode)", "\x1bOA\x1bOB", []keyEvent{{k: keyUp}, {k: keyDown}}},
		{"paging", "\x1b[5~\x1b[6~\x1b[H\x1b[F\x1b[1~\x1b[4~", []keyEvent{
			{k: keyPageUp}, {k: keyPageDown}, {k: keyHome}, {k: keyEnd}, {k: keyHome}, {k: keyEnd}}},
		{"modified arrow", "\x1b[1;5A", []keyEvent{{k: keyUp}}},
		{"unknown sequence dropped", "\x1b[15~x", []keyEvent{r('x')}},
		{"lone escape", "\x1b", []keyEvent{{k: keyEsc}}},
		{"Ctrl-C", "\x03", []keyEvent{{k: keyQuit}}},
		{"cut-off sequence", "\x1b[1;", nil},
		{"control bytes ignored", "\x00\x7f\x02y", []keyEvent{r('y')}},
	}
	for _, tc := range tests {
		if got := parseKeys([]byte(tc.in)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: parseKeys(%q) = %v, want %v", tc.name, tc.in, got, tc.want)
		}
	}
}

func pids(v *topView) []int32 {
	var out []int32
	for _, p := range v.procs {
		out = append(out, p.PID)
	}
	return out
}

func press(v *topView, keys ...any) topAction {
	var last topAction
	for _, k := range keys {
		switch k := k.(type) {
		case rune: // as the terminal sends it: q is quit
			for _, e := range parseKeys([]byte(string(k))) {
				last = v.press(e)
			}
		case key:
			last = v.press(keyEvent{k: k})
		}
	}
	return last
}

func TestSortKeys(t *testing.T) {
	v := &topView{rows: 10}
	v.setUpdate(topFixture())
	tests := []struct {
		keys []any
		want []int32
	}{
		{nil, []int32{4242, 5150, 777}},             // GPU memory, most first
		{[]any{'u'}, []int32{4242, 5150, 777}},      // SM util; 777 has none
		{[]any{'r'}, []int32{777, 5150, 4242}},      // reversed
		{[]any{'n'}, []int32{4242, 5150, 777}},      // alice, bob…, carol
		{[]any{'p'}, []int32{777, 4242, 5150}},      // PID
		{[]any{'r'}, []int32{5150, 4242, 777}},      // PID, reversed
		{[]any{'>'}, []int32{4242, 5150, 777}},      // next after PID: GPU memory
		{[]any{'<', '<'}, []int32{4242, 5150, 777}}, // back to user
		{[]any{'m'}, []int32{4242, 5150, 777}},
	}
	for _, tc := range tests {
		press(v, tc.keys...)
		if got := pids(v); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("after %q: order %v, want %v (sort %s, reversed %v)", tc.keys, got, tc.want, sortNames[v.sort], v.reverse)
		}
	}
}

func TestSelection(t *testing.T) {
	v := &topView{rows: 2}
	v.setUpdate(topFixture())
	if v.selected != 4242 {
		t.Fatalf("first selection %d, want the top row 4242", v.selected)
	}
	steps := []struct {
		k        key
		selected int32
		offset   int
	}{
		{keyDown, 5150, 0}, {keyDown, 777, 1}, {keyDown, 777, 1}, // stops at the end, scrolled
		{keyUp, 5150, 1}, {keyUp, 4242, 0}, {keyUp, 4242, 0},
		{keyEnd, 777, 1}, {keyHome, 4242, 0}, {keyPageDown, 5150, 0}, {keyPageUp, 4242, 0},
	}
	for i, s := range steps {
		v.press(keyEvent{k: s.k})
		if v.selected != s.selected || v.offset != s.offset {
			t.Errorf("step %d: selected %d offset %d, want %d %d", i, v.selected, v.offset, s.selected, s.offset)
		}
	}

	// The selection follows its process through re-sorting and updates.
	press(v, keyDown, 'p')
	if v.selected != 5150 {
		t.Errorf("after sorting by PID the selection is %d, want it to stay on 5150", v.selected)
	}
	u := topFixture()
	u.Processes = u.Processes[:1] // 5150 and 777 ended
	v.setUpdate(u)
	if v.selected != 4242 {
		t.Errorf("the selected process ended: selection %d, want the top row", v.selected)
	}
	u.Processes = nil
	v.setUpdate(u)
	if v.selected != 0 || press(v, keyDown) != actNone {
		t.Errorf("no processes: selection %d", v.selected)
	}
}

func TestKillKeys(t *testing.T) {
	v := &topView{rows: 10}
	v.setUpdate(topFixture())
	if press(v, 'k'); v.confirm != 0 || !strings.Contains(v.status, "admin token") {
		t.Errorf("k without an admin token: confirm %d, status %q; want a message naming the admin token", v.confirm, v.status)
	}

	v.canKill = true
	press(v, keyDown, 'k')
	if v.confirm != 5150 || !strings.Contains(v.statusLine(80), "Stop PID 5150") || !strings.Contains(v.statusLine(80), "[y/N]") {
		t.Fatalf("k: confirm %d, prompt %q", v.confirm, v.statusLine(80))
	}
	if a := press(v, 'q'); a != actNone || v.confirm != 0 || v.status != "not stopped" {
		t.Errorf("q at the prompt: action %v, confirm %d, status %q; want it to cancel, not quit", a, v.confirm, v.status)
	}
	press(v, 'k')
	if a := press(v, 'n'); a != actNone || v.confirm != 0 {
		t.Errorf("n at the prompt: %v %d", a, v.confirm)
	}
	press(v, 'k')
	if a := press(v, 'y'); a != actKill || v.target != 5150 || v.confirm != 0 {
		t.Fatalf("y at the prompt: action %v, target %d, confirm %d; want a kill of 5150", a, v.target, v.confirm)
	}
	if press(v, 'k'); !strings.Contains(v.status, "still on its way") {
		t.Errorf("k while a kill is on its way: %q", v.status)
	}
	v.killDone("PID 5150: success: signalled")
	if v.confirm != 0 || v.target != 0 || v.statusLine(80) != "PID 5150: success: signalled" {
		t.Errorf("after the kill: confirm %d target %d line %q", v.confirm, v.target, v.statusLine(80))
	}
	if press(v, keyEsc); v.status != "" {
		t.Errorf("Esc left the message %q", v.status)
	}
}

func TestHelpAndQuit(t *testing.T) {
	v := &topView{rows: 10}
	v.setUpdate(topFixture())
	if press(v, '?'); !v.help {
		t.Fatal("? did not open the help")
	}
	if a := press(v, 'q'); a != actQuit {
		t.Errorf("q in the help: %v, want quit", a)
	}
	press(v, 'h')
	if a := press(v, 'm'); a != actNone || v.help {
		t.Errorf("a key in the help: %v, help %v; want it closed and nothing else", a, v.help)
	}
	if a := v.press(keyEvent{k: keyQuit}); a != actQuit {
		t.Errorf("Ctrl-C: %v", a)
	}
}

func TestKillOutcome(t *testing.T) {
	if got := killOutcome(5, nil, errTest("the agent on \"gpu-a\" does not allow kills")); !strings.Contains(got, "PID 5: error: the agent") {
		t.Errorf("rpc error: %q", got)
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }
