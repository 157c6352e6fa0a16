package screen

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseSocketName: a socket name yields a positive pid and the full
// session name after the first dot, or nothing.
func FuzzParseSocketName(f *testing.F) {
	for _, s := range []string{"1234.train.v2", "99.a", "x.y", ".", "12.", "-1.n", "0001.x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pid, name, ok := parseSocketName(s)
		if !ok {
			return
		}
		if pid <= 0 || name == "" || !utf8.ValidString(name) || (utf8.ValidString(s) && !strings.HasSuffix(s, "."+name)) {
			t.Fatalf("parseSocketName(%q) = %d, %q", s, pid, name)
		}
		if p, _, _ := strings.Cut(s, "."); strconv.Itoa(pid) != strings.TrimLeft(p, "+0") && p != strconv.Itoa(pid) {
			t.Fatalf("pid %d from %q", pid, s)
		}
	})
}

// FuzzParseListSessions: no tmux output panics the parser.
func FuzzParseListSessions(f *testing.F) {
	f.Add([]byte("main\t1\t1764380000\nwork.v2\t0\t1764380001\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, s := range parseListSessions(b, "alice") {
			if s.GetName() == "" {
				t.Fatalf("empty session name from %q", b)
			}
		}
	})
}
