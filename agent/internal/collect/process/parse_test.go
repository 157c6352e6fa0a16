package process

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func readFixture(t testing.TB, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"testdata", "root", "proc"}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		pid   string
		want  statFields
		comm  string
		wantS string
	}{
		{pid: "1", comm: "systemd", wantS: "sleeping",
			want: statFields{PID: 1, State: 'S', PPID: 0, UTime: 120, STime: 312, StartTime: 19, RSS: 2757}},
		{pid: "402", comm: "python3", wantS: "running",
			want: statFields{PID: 402, State: 'R', PPID: 401, UTime: 90000, STime: 1200, StartTime: 8100, RSS: 800000}},
		{pid: "701", comm: "Web Content) x", wantS: "stopped",
			want: statFields{PID: 701, State: 'T', PPID: 1, StartTime: 310, RSS: 400}},
		{pid: "700", comm: "(sd-pam)", wantS: "sleeping",
			want: statFields{PID: 700, State: 'S', PPID: 1, StartTime: 300, RSS: 400}},
		{pid: "600", comm: "defunct", wantS: "zombie",
			want: statFields{PID: 600, State: 'Z', PPID: 402, StartTime: 9200}},
		{pid: "15", comm: "kworker/0:1-eve", wantS: "idle",
			want: statFields{PID: 15, State: 'I', PPID: 2, STime: 40, StartTime: 25}},
		{pid: "702", comm: "python3.11-trai", wantS: "disk-sleep",
			want: statFields{PID: 702, State: 'D', PPID: 1, StartTime: 320, RSS: 400}},
	}
	for _, tt := range tests {
		t.Run(tt.pid, func(t *testing.T) {
			got, err := parseStat(readFixture(t, tt.pid, "stat"))
			if err != nil {
				t.Fatal(err)
			}
			if string(got.Comm) != tt.comm {
				t.Errorf("comm = %q, want %q", got.Comm, tt.comm)
			}
			got.Comm = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseStat = %+v, want %+v", got, tt.want)
			}
			if s := statusWord(got.State); s != tt.wantS {
				t.Errorf("status = %q, want %q", s, tt.wantS)
			}
		})
	}
}

func TestParseStatBad(t *testing.T) {
	for _, in := range []string{"", "42", "42 (x)", "42 (x) S 1 2", "x (y) S 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 1 1"} {
		if _, err := parseStat([]byte(in)); err == nil {
			t.Errorf("parseStat(%q) did not fail", in)
		}
	}
}

func TestParseStatusUID(t *testing.T) {
	uid, err := parseStatusUID(readFixture(t, "402", "status"))
	if err != nil || uid != 1000 {
		t.Fatalf("parseStatusUID = %d, %v; want 1000", uid, err)
	}
	if _, err := parseStatusUID([]byte("Name:\tx\n")); err == nil {
		t.Fatal("no Uid line: no error")
	}
}

func TestParseCgroup(t *testing.T) {
	// want is "container" when the file names one, "" when not.
	tests := []struct{ name, pid, want string }{
		{"docker cgroup v1", "100", "container"},
		{"docker cgroup v2", "200", "container"},
		{"kubernetes containerd v2", "300", "container"},
		{"kubernetes containerd systemd driver", "301", "container"},
		{"kubernetes cgroup v1", "310", "container"},
		{"podman", "320", "container"},
		{"podman conmon is outside", "321", ""},
		{"cri-o", "330", "container"},
		{"32-digit hex is no container", "340", ""},
		{"host process", "1", ""},
		{"user session", "402", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseCgroup(readFixture(t, tt.pid, "cgroup"))
			if tt.want == "" {
				if got != "" {
					t.Errorf("parseCgroup = %q, want none", got)
				}
				return
			}
			if len(got) != 12 || !strings.Contains(string(readFixture(t, tt.pid, "cgroup")), got) {
				t.Errorf("parseCgroup = %q, want a 12-digit prefix of the id", got)
			}
		})
	}
	dind := "0::/docker/" + strings.Repeat("a", 64) + "/docker/" + strings.Repeat("b", 64) + "\n"
	if got := parseCgroup([]byte(dind)); got != "bbbbbbbbbbbb" {
		t.Errorf("docker in docker: %q, want the inner container", got)
	}
}

func TestParseCmdline(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"python3\x00train.py\x00--lr\x000.1\x00", 4096, "python3 train.py --lr 0.1"},
		{"", 4096, ""},
		{"nginx: master process\x00\x00", 4096, "nginx: master process"},
		{"abcdef\x00", 3, "abc"},
		{"ab\u00e9\x00", 3, "ab"}, // no half character at the cut
		{"bad\xff\x00", 4096, "bad\uFFFD"},
	}
	for _, tt := range tests {
		if got := parseCmdline([]byte(tt.in), tt.max); got != tt.want {
			t.Errorf("parseCmdline(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestProcName(t *testing.T) {
	if got := procName("python3.11-trai", "/opt/venv/bin/python3.11-trainer run"); got != "python3.11-trainer" {
		t.Errorf("long name = %q", got)
	}
	if got := procName("pt_data_worker", "python3 train.py"); got != "pt_data_worker" {
		t.Errorf("renamed thread = %q", got)
	}
}

func TestParseMemTotalAndBootTime(t *testing.T) {
	if v, err := parseMemTotal(readFixture(t, "meminfo")); err != nil || v != 24683620*1024 {
		t.Errorf("parseMemTotal = %d, %v", v, err)
	}
	if v, err := parseBootTime(readFixture(t, "stat")); err != nil || v != 1795919945 {
		t.Errorf("parseBootTime = %d, %v", v, err)
	}
}

func TestParseScreenName(t *testing.T) {
	tests := map[string]string{
		"SCREEN -dmS train.v2 bash":              "train.v2",
		"SCREEN -S exp.1":                        "exp.1",
		"SCREEN -Sexp":                           "exp",
		"SCREEN -dmSfoo python x.py":             "foo",
		"SCREEN -c /etc/screenrc -S cfg":         "cfg",
		"SCREEN -dm python train.py -S not-this": "",
		"SCREEN":                                 "",
	}
	for in, want := range tests {
		if got := parseScreenName(in); got != want {
			t.Errorf("parseScreenName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseTmuxEnv(t *testing.T) {
	socket, id, ok := parseTmuxEnv(readFixture(t, "501", "environ"))
	if !ok || socket != "/tmp/tmux-1000/default" || id != "$1" {
		t.Errorf("parseTmuxEnv = %q, %q, %v", socket, id, ok)
	}
	if _, _, ok := parseTmuxEnv([]byte("HOME=/\x00TMUX=bad\x00")); ok {
		t.Error("malformed TMUX accepted")
	}
}

func TestParseTmuxIDs(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "tmux-ids.txt"))
	if err != nil {
		t.Fatal(err)
	}
	m := parseTmuxIDs(b)
	if m["$0"] != "train_v2" || m["$1"] != "eval" || len(m) != 2 {
		t.Errorf("parseTmuxIDs = %v", m)
	}
}
