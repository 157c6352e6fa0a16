// Package redact hides secrets in command lines before anyone else sees
// them. An agent reports every process's command line, and reading is open
// by default, so a password on a command line would reach every reader.
//
// What is hidden (the value only; the name stays, so a reader still sees
// what the process was given):
//
//   - the value of a flag whose name holds "token", "password", "passwd",
//     "secret" or is "api-key"/"apikey" (any case, "-" or "_"), in both
//     forms "--flag value" and "--flag=value"; flags naming a file, path
//     or directory ("--token-file") keep their value, which is a path;
//   - the value of an assignment NAME=value whose NAME is TOKEN, PASSWORD,
//     SECRET or API_KEY or ends in _TOKEN, _PASSWORD, _PASSWD, _SECRET,
//     _API_KEY or _APIKEY (any case);
//   - the password of a URL (scheme://user:password@host);
//   - the word after "Bearer" (an Authorization header given to curl);
//   - every occurrence of the extra secrets a Redactor is made with (the
//     agent's own token), wherever they appear.
//
// Spacing is kept; each hidden value becomes Mask.
package redact

import (
	"strings"
)

// Mask replaces every hidden value.
const Mask = "***"

// MinSecretLen is the shortest extra secret that is searched for: shorter
// ones would hide ordinary words.
const MinSecretLen = 6

// Redactor hides secrets in command lines. The zero value hides
// secret-looking flags and assignments only.
type Redactor struct {
	secrets []string
}

// New returns a Redactor that also hides every occurrence of secrets
// (those shorter than MinSecretLen are ignored).
func New(secrets ...string) *Redactor {
	r := &Redactor{}
	for _, s := range secrets {
		if len(s) >= MinSecretLen {
			r.secrets = append(r.secrets, s)
		}
	}
	return r
}

// Cmdline is Redactor{}.Cmdline: secret-looking flags and assignments only.
func Cmdline(cmdline string) string { return (*Redactor)(nil).Cmdline(cmdline) }

// Cmdline returns cmdline with its secrets replaced by Mask.
func (r *Redactor) Cmdline(cmdline string) string {
	if r != nil {
		for _, s := range r.secrets {
			if strings.Contains(cmdline, s) {
				cmdline = strings.ReplaceAll(cmdline, s, Mask)
			}
		}
	}
	if !mayHoldSecret(cmdline) {
		return cmdline
	}
	return hideWords(cmdline)
}

// clues are what a command line holds (in any ASCII case) when one of its
// words may hide a secret: every rule of hideWords needs one of them. They
// are listed by their first byte.
var clues = [256][]string{
	't': {"token"}, 'p': {"passw"}, 's': {"secret"}, 'a': {"api-key", "api_key", "apikey"}, 'b': {"bearer"}, ':': {"://"},
}

// mayHoldSecret reports whether cmdline holds a clue, or anything beyond
// ASCII (Unicode case folding turns "ſ" into "S" and the Kelvin sign into
// "k"). Most command lines hold none and are returned as they are, without
// splitting them into words.
func mayHoldSecret(cmdline string) bool {
	for i := 0; i < len(cmdline); i++ {
		c := cmdline[i]
		if !mayStart[c] {
			continue // most bytes: one table lookup
		}
		if c >= 0x80 {
			return true
		}
		for _, clue := range clues[lower(c)] {
			if hasPrefixFold(cmdline[i:], clue) {
				return true
			}
		}
	}
	return false
}

// mayStart holds the bytes mayHoldSecret looks at further: those beyond
// ASCII and the first bytes of clues, in either case.
var mayStart = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c >= 0x80 || len(clues[lower(byte(c))]) > 0
	}
	return t
}()

// hasPrefixFold is strings.HasPrefix ignoring ASCII case; prefix is lower
// case.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for j := 0; j < len(prefix); j++ {
		if lower(s[j]) != prefix[j] {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// hideWords hides the secret-looking values among cmdline's words.
func hideWords(cmdline string) string {
	var (
		b        strings.Builder
		last     int  // cmdline[:last] is in b already
		hideNext bool // the previous word was a secret flag without "="
	)
	hide := func(from, to int) {
		if from >= to || cmdline[from:to] == Mask {
			return
		}
		b.WriteString(cmdline[last:from])
		b.WriteString(Mask)
		last = to
	}
	forEachWord(cmdline, func(start, end int) {
		w := cmdline[start:end]
		if hideNext {
			hideNext = false
			if !strings.HasPrefix(w, "-") {
				hide(start, end)
				return
			}
		}
		switch from, to, next := secretValue(w); {
		case next:
			hideNext = true
		case to > from:
			hide(start+from, start+to)
		}
	})
	if last == 0 {
		return cmdline
	}
	b.WriteString(cmdline[last:])
	return b.String()
}

// forEachWord calls fn with the bounds of every space-separated word.
func forEachWord(s string, fn func(start, end int)) {
	start := -1
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || s[i] == '\t' || s[i] == '\n' {
			if start >= 0 {
				fn(start, i)
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		fn(start, len(s))
	}
}

// secretValue finds the secret in one word: the bounds of a value to hide
// inside it, or next when the word is a secret flag whose value is the next
// word.
func secretValue(w string) (from, to int, next bool) {
	if strings.EqualFold(w, "bearer") {
		return 0, 0, true
	}
	if strings.HasPrefix(w, "-") {
		name, _, hasValue := strings.Cut(strings.TrimLeft(w, "-"), "=")
		if !secretFlag(name) {
			return urlPassword(w)
		}
		if !hasValue {
			return 0, 0, true
		}
		return strings.IndexByte(w, '=') + 1, len(w), false
	}
	if name, _, ok := strings.Cut(w, "="); ok && secretVariable(name) {
		return len(name) + 1, len(w), false
	}
	return urlPassword(w)
}

// secretFlag: a flag name that holds a secret value (not a file naming one).
func secretFlag(name string) bool {
	n := strings.ToLower(strings.ReplaceAll(name, "_", "-"))
	if n == "" {
		return false
	}
	for _, path := range []string{"file", "path", "dir"} {
		if strings.HasSuffix(n, "-"+path) || n == path {
			return false
		}
	}
	if n == "api-key" || n == "apikey" || strings.HasSuffix(n, "-api-key") || strings.HasSuffix(n, "-apikey") {
		return true
	}
	for _, s := range []string{"token", "password", "passwd", "secret"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// secretVariable: an environment-style name that holds a secret.
func secretVariable(name string) bool {
	if name == "" || strings.ContainsAny(name, "-/:.@") {
		return false
	}
	n := strings.ToUpper(name)
	for _, s := range []string{"TOKEN", "PASSWORD", "PASSWD", "SECRET", "API_KEY", "APIKEY"} {
		if n == s || strings.HasSuffix(n, "_"+s) {
			return true
		}
	}
	return false
}

// urlPassword finds the password of a URL in w (scheme://user:password@host).
func urlPassword(w string) (from, to int, next bool) {
	i := strings.Index(w, "://")
	if i < 0 {
		return 0, 0, false
	}
	rest := w[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndexByte(rest[:end], '@')
	if at < 0 {
		return 0, 0, false
	}
	colon := strings.IndexByte(rest[:at], ':')
	if colon < 0 {
		return 0, 0, false
	}
	return i + 3 + colon + 1, i + 3 + at, false
}
