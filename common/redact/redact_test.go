package redact

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCmdline(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain command", "python train.py --epochs 10 --lr=0.1", "python train.py --epochs 10 --lr=0.1"},
		{"empty", "", ""},
		{"token flag, two words", "gpumon-agent --hub h:7865 --token abc123secret", "gpumon-agent --hub h:7865 --token ***"},
		{"token flag with =", "gpumon-agent --token=abc123secret --hub h:7865", "gpumon-agent --token=*** --hub h:7865"},
		{"single dash", "tool -token abc -x", "tool -token *** -x"},
		{"name holds token", "hub --agent-token s3cr3t --api-token=r34d", "hub --agent-token *** --api-token=***"},
		{"password", "mysql --password hunter2 --user bob", "mysql --password *** --user bob"},
		{"passwd and upper case", "x --DB-PASSWD=p4ss", "x --DB-PASSWD=***"},
		{"secret", "vault --client-secret 0xdead", "vault --client-secret ***"},
		{"api-key", "cli --api-key k1 --apikey=k2 --openai-api-key k3", "cli --api-key *** --apikey=*** --openai-api-key ***"},
		{"underscore flag", "x --auth_token tt", "x --auth_token ***"},
		{"file flags keep their path", "gpumon-agent --token-file /etc/gpumon/agent-token --secret-dir /run/s --password-path p",
			"gpumon-agent --token-file /etc/gpumon/agent-token --secret-dir /run/s --password-path p"},
		{"flag at the end without value", "x --token", "x --token"},
		{"flag followed by another flag", "x --token --verbose", "x --token --verbose"},
		{"env assignments", "env HF_TOKEN=hf_abc DB_PASSWORD=pw AWS_SECRET=s OPENAI_API_KEY=k PATH=/bin python a.py",
			"env HF_TOKEN=*** DB_PASSWORD=*** AWS_SECRET=*** OPENAI_API_KEY=*** PATH=/bin python a.py"},
		{"bare names, lower case", "token=a password=b secret=c", "token=*** password=*** secret=***"},
		{"names that only look alike", "TOKENIZER=bpe MY_TOKENS=3 SECRETARY=x", "TOKENIZER=bpe MY_TOKENS=3 SECRETARY=x"},
		{"url password", "git clone https://bob:pa55@git.lab/x.git", "git clone https://bob:***@git.lab/x.git"},
		{"url in a flag", "app --db=postgres://u:pw@db:5432/x?a=b", "app --db=postgres://u:***@db:5432/x?a=b"},
		{"url without password", "curl https://bob@host/ http://host:80/a@b", "curl https://bob@host/ http://host:80/a@b"},
		{"bearer", "curl -H Authorization: Bearer eyJhbGci.x.y http://h", "curl -H Authorization: Bearer *** http://h"},
		{"spacing kept", "a  --token   t  b", "a  --token   ***  b"},
		{"unicode around", "训练 --token 密码abc 完成", "训练 --token *** 完成"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Cmdline(tt.in); got != tt.want {
				t.Errorf("Cmdline(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRedactorHidesItsSecretsAnywhere(t *testing.T) {
	r := New("agent-token-0123456789", "short", "")
	tests := []struct{ in, want string }{
		{"sh -c gpumon-agent --hub h --token agent-token-0123456789", "sh -c gpumon-agent --hub h --token ***"},
		{"echo xagent-token-0123456789y", "echo x***y"},
		{"GPUMON_TOKEN_X=agent-token-0123456789", "GPUMON_TOKEN_X=***"},
		{"echo short", "echo short"},
	}
	for _, tt := range tests {
		if got := r.Cmdline(tt.in); got != tt.want {
			t.Errorf("Cmdline(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestBearerIsCaseInsensitiveButNeedsAWord(t *testing.T) {
	if got := Cmdline("curl -H 'authorization: bearer abc' u"); got != "curl -H 'authorization: bearer *** u" {
		t.Errorf("got %q", got)
	}
	if got := Cmdline("echo Bearer"); got != "echo Bearer" {
		t.Errorf("got %q", got)
	}
}

func FuzzCmdline(f *testing.F) {
	for _, s := range []string{"gpumon-agent --token abc", "A_TOKEN=x --password=y", "https://u:p@h/", "Bearer  x", "--=", "=", "://:@", "- -- ---token"} {
		f.Add(s, "secret-value")
	}
	f.Fuzz(func(t *testing.T, cmdline, secret string) {
		r := New(secret)
		out := r.Cmdline(cmdline)
		if utf8.ValidString(cmdline) && !utf8.ValidString(out) {
			t.Fatalf("valid UTF-8 %q became invalid %q", cmdline, out)
		}
		if again := r.Cmdline(out); again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", cmdline, out, again)
		}
		if len(secret) >= MinSecretLen && !strings.Contains(secret, "*") && strings.Contains(out, secret) {
			t.Fatalf("secret %q left in %q", secret, out)
		}
		for _, prefix := range []string{"--token=", "--password=", "X_SECRET="} {
			probe := r.Cmdline(cmdline + " " + prefix + "v4lue")
			if !strings.HasSuffix(probe, prefix+Mask) && !strings.HasSuffix(probe, Mask) {
				t.Fatalf("%s value left in %q", prefix, probe)
			}
		}
	})
}

// FuzzCluesMissNothing: a command line without a clue is one that the rules
// leave as it is, so skipping it changes nothing.
func FuzzCluesMissNothing(f *testing.F) {
	for _, s := range []string{"python train.py --lr 3e-4", "X_ſECRET=v", "--to\u212Aen v", "curl https://u:p@h/", "A_APIKEY=x", "BeArEr x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cmdline string) {
		if !mayHoldSecret(cmdline) && hideWords(cmdline) != cmdline {
			t.Fatalf("%q holds no clue but has a secret: %q", cmdline, hideWords(cmdline))
		}
	})
}

// TestMayHoldSecretAsEveryByteChecked: the table of bytes that may start
// a clue changes nothing: mayHoldSecret answers as checking every byte
// against every clue does, on random lines made of clues' pieces.
func TestMayHoldSecretAsEveryByteChecked(t *testing.T) {
	every := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				return true
			}
			for _, list := range clues {
				for _, clue := range list {
					if len(s)-i >= len(clue) && strings.EqualFold(s[i:i+len(clue)], clue) {
						return true
					}
				}
			}
		}
		return false
	}
	pieces := []string{"to", "ken", "TOK", "en", "pa", "ssw", "PASSW", "sec", "ret", "api", "-key", "_KEY", "key", "bear", "ER", ":/", "/", ":", " ", "x", "é", "--", "="}
	rng := rand.New(rand.NewPCG(3, 5))
	for range 100000 {
		var b strings.Builder
		for range rng.IntN(8) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		if s := b.String(); mayHoldSecret(s) != every(s) {
			t.Fatalf("%q: mayHoldSecret %v, every byte checked %v", s, mayHoldSecret(s), every(s))
		}
	}
}

// BenchmarkCmdline: a training job's command line, with nothing to hide,
// through every rule (words) and as Cmdline takes it (clues first).
func BenchmarkCmdline(b *testing.B) {
	line := "python train.py --config configs/exp-042.yaml --lr 3e-4 --batch-size 64 --output /data/alice/runs/42"
	r := New("agent-token-0123456789")
	b.Run("words", func(b *testing.B) {
		for b.Loop() {
			_ = hideWords(line)
		}
	})
	b.Run("Cmdline", func(b *testing.B) {
		for b.Loop() {
			_ = r.Cmdline(line)
		}
	})
}
