package passwd

import (
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[uint32]string
	}{
		{"plain", "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n",
			map[uint32]string{0: "root", 1000: "alice"}},
		{"comment lines are skipped", "#root:x:0:0::/:/bin/sh\n  # mallory:x:7:7::/:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh\n",
			map[uint32]string{1001: "bob"}},
		{"a comment does not take a uid from a later entry", "#ghost:x:1000:1000::/:/bin/sh\nalice:x:1000:1000::/:/bin/sh\n",
			map[uint32]string{1000: "alice"}},
		{"the first entry for a uid wins", "root:x:0:0::/:/bin/sh\ntoor:x:0:0::/:/bin/sh\n",
			map[uint32]string{0: "root"}},
		{"broken lines are skipped", "short:x:5\n:x:6:6::/:/bin/sh\nneg:x:-1:0::/:/bin/sh\nbig:x:4294967296:0::/:/bin/sh\nfloat:x:1.5:0::/:/bin/sh\n\n",
			map[uint32]string{}},
		{"CRLF and blanks around", "  carol:x:1002:1002::/:/bin/sh\r\n",
			map[uint32]string{1002: "carol"}},
		{"names become valid UTF-8", "d\xffve:x:1003:1003::/:/bin/sh\n",
			map[uint32]string{1003: "d?ve"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Parse([]byte(tt.in)); !maps.Equal(got, tt.want) {
				t.Errorf("Parse = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestUsersName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passwd")
	write := func(body string, mtime time.Time) {
		t.Helper()
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	write("root:x:0:0::/:/bin/sh\n", t0)
	u := NewUsers(path, false)
	steps := []struct {
		name  string
		write string // new file contents written before the lookup, if any
		uid   uint32
		want  string
	}{
		{"known uid", "", 0, "root"},
		{"unknown uid is its number", "", 1000, "1000"},
		{"a user added later is found", "root:x:0:0::/:/bin/sh\nalice:x:1001:1001::/:/bin/sh\n", 1001, "alice"},
		{"a miss is kept until the file changes again", "", 1000, "1000"},
	}
	for i, st := range steps {
		if st.write != "" {
			write(st.write, t0.Add(time.Duration(i)*time.Second))
		}
		if got := u.Name(st.uid); got != st.want {
			t.Errorf("%s: Name(%d) = %q, want %q", st.name, st.uid, got, st.want)
		}
	}
}

func TestUsersMissingFile(t *testing.T) {
	u := NewUsers(filepath.Join(t.TempDir(), "absent"), false)
	if got := u.Name(0); got != "0" {
		t.Errorf("Name(0) without a passwd file = %q, want \"0\"", got)
	}
}
