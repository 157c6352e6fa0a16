package process

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseStat: no stat line panics the parser.
func FuzzParseStat(f *testing.F) {
	f.Add([]byte("1234 (python3) S 1 1234 1234 0 -1 4194560 1000 0 0 0 150 30 0 0 20 0 4 0 12345 1000000 2000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0"))
	f.Add([]byte("42 (Web Content) x) R 1 42 42 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 0 0"))
	f.Add([]byte("7 ((sd-pam)) S"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseStat(b)
	})
}

// FuzzParseCgroup: container ids come out as 12 lower-case hex characters or
// not at all.
func FuzzParseCgroup(f *testing.F) {
	files, _ := filepath.Glob("testdata/root/proc/*/cgroup")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("0::/system.slice/docker-" + strings.Repeat("ab", 32) + ".scope\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		id := parseCgroup(b)
		if id == "" {
			return
		}
		if len(id) != 12 || strings.Trim(id, "0123456789abcdef") != "" {
			t.Fatalf("container id %q from %q", id, b)
		}
	})
}

// FuzzParseCmdline: the result is valid UTF-8 and within the bound.
func FuzzParseCmdline(f *testing.F) {
	f.Add([]byte("python\x00train.py\x00--lr\x003e-4\x00"), 4096)
	f.Add([]byte("\xff\xfe\x00\xe5\xae\x9e"), 5)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		if n <= 0 || n > 1<<20 {
			return
		}
		s := parseCmdline(b, n)
		if len(s) > n || !utf8.ValidString(s) {
			t.Fatalf("parseCmdline(%q, %d) = %q", b, n, s)
		}
	})
}
