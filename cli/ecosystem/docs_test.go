//go:build ecosystem

package ecosystem

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the README flag tables from --help")

// binaries whose flags the READMEs document, in order.
var binaries = []string{"gpumon-hub", "gpumon-agent", "gpumon-gateway", "gpumon-loadgen", "gpumon"}

// cliCommands have flags of their own (gpumon COMMAND --help).
var cliCommands = []string{"ls", "free", "ps", "top", "kill", "usage", "alerts", "wait"}

// helpEntry is one flag as --help prints it.
type helpEntry struct{ flag, arg, env, def, meaning string }

var (
	entryRe   = regexp.MustCompile(`(?m)^  (--[a-z0-9.-]+)( [^\n]+)?\n((?:      [^\n]*\n)+)`)
	defaultRe = regexp.MustCompile(` \(default ([^)]*)\)`)
	envRe     = regexp.MustCompile(` \[\$(GPUMON_[A-Z0-9_]+)\]`)
)

func parseHelp(text, prefix string) []helpEntry {
	var out []helpEntry
	for _, m := range entryRe.FindAllStringSubmatch(text, -1) {
		desc := strings.Join(strings.Fields(m[3]), " ")
		e := helpEntry{flag: m[1], arg: strings.TrimSpace(m[2])}
		if d := defaultRe.FindStringSubmatch(desc); d != nil {
			e.def = d[1]
		}
		if v := envRe.FindStringSubmatch(desc); v != nil {
			e.env = v[1]
		}
		e.meaning = prefix + strings.TrimSpace(envRe.ReplaceAllString(defaultRe.ReplaceAllString(desc, ""), ""))
		out = append(out, e)
	}
	return out
}

// flagTable renders the table of one binary from its --help. A meaning found
// in keep (a translated README's own wording, by flag cell) is kept.
func flagTable(t *testing.T, binary, header string, keep map[string]string) string {
	entries := parseHelp(help(t, binary), "")
	if binary == "gpumon" {
		for _, c := range cliCommands {
			text := runHelp(t, binary, c)
			if _, own, ok := strings.Cut(text, "Flags of this command"); ok {
				own, _, _ = strings.Cut(own, "Common flags")
				entries = append(entries, parseHelp(own, "`"+c+"`: ")...)
			}
		}
	}
	var b strings.Builder
	b.WriteString(header + "\n|---|---|---|---|\n")
	for _, e := range entries {
		name := "`" + strings.TrimSpace(e.flag+" "+e.arg) + "`"
		env, def := "", ""
		if e.env != "" {
			env = "`" + e.env + "`"
		}
		if e.def != "" {
			def = "`" + e.def + "`"
		}
		meaning := strings.ReplaceAll(e.meaning, "|", `\|`)
		if kept, ok := keep[name+commandOf(meaning)]; ok {
			meaning = kept
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", name, env, def, meaning)
	}
	return b.String()
}

func runHelp(t *testing.T, binary string, args ...string) string {
	t.Helper()
	out, err := execOutput(filepath.Join(binDir, binary), append(args, "--help")...)
	if err != nil {
		t.Fatalf("%s %v --help: %v", binary, args, err)
	}
	return out
}

// TestReadmeFlags checks that each README's configuration tables are what
// the binaries' --help says (go test -tags ecosystem -run TestReadmeFlags
// ./cli/ecosystem -update rewrites them), and that every flag a README names
// exists.
func TestReadmeFlags(t *testing.T) {
	for file, header := range map[string]string{
		"README.md":       "| flag | environment | default | meaning |",
		"README.zh-CN.md": "| 参数 | 环境变量 | 默认值 | 说明 |",
	} {
		text := readFile(t, file)
		for _, binary := range binaries {
			start, end := "<!-- flags: "+binary+" -->\n", "<!-- end flags -->"
			i := strings.Index(text, start)
			j := strings.Index(text[max(i, 0):], end)
			if i < 0 || j < 0 {
				t.Errorf("%s has no %q … %q block", file, strings.TrimSpace(start), end)
				continue
			}
			got := text[i+len(start) : i+j]
			keep := map[string]string{}
			if file != "README.md" {
				keep = meanings(got)
			}
			want := flagTable(t, binary, header, keep)
			if got != want && *update {
				text = text[:i+len(start)] + want + text[i+j:]
			} else if got != want {
				t.Errorf("%s: the %s table differs from --help (rerun with -update):\n--- README\n%s--- --help\n%s", file, binary, got, want)
			}
		}
		if *update {
			if err := os.WriteFile(filepath.Join(root, file), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		checkNamedFlags(t, file, text)
	}
}

// commandOf is the command a row of the gpumon table is for ("`free`: …",
// or "`free`：…" in Chinese), as " free"; "" for a common flag. Commands
// share flags (--host of ps, alerts and wait), each with its own meaning.
func commandOf(meaning string) string {
	if rest, ok := strings.CutPrefix(meaning, "`"); ok {
		if c, after, ok := strings.Cut(rest, "`"); ok && (strings.HasPrefix(after, ":") || strings.HasPrefix(after, "：")) {
			return " " + c
		}
	}
	return ""
}

// meanings maps each row's flag cell (and command) to its meaning cell, so a
// translated README keeps its own wording while flags, variables and
// defaults are checked.
func meanings(table string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(table, "\n") {
		cells := strings.SplitN(line, " | ", 4)
		if len(cells) == 4 && strings.HasPrefix(cells[0], "| `--") {
			meaning := strings.TrimSuffix(cells[3], " |")
			out[strings.TrimPrefix(cells[0], "| ")+commandOf(meaning)] = meaning
		}
	}
	return out
}

// otherTools are flags the READMEs name that belong to other programs:
// docker, systemctl, deploy/install.sh, examples/python/fleet.py and the
// command lines of simulated jobs (python train.py --model …, torchrun).
var otherTools = map[string]bool{"--now": true, "--pid": true, "--gpus": true, "--runtime": true,
	"--prefix": true, "--from": true, "--no-user": true, "--help": true, "--version": true, "--follow": true,
	"--model": true, "--batch-size": true, "--nproc": true}

// checkNamedFlags fails for a --flag in the text that no binary has.
func checkNamedFlags(t *testing.T, file, text string) {
	t.Helper()
	all := map[string]bool{}
	for _, b := range binaries {
		for f := range known(t, b) {
			all[f] = true
		}
	}
	for _, c := range cliCommands {
		for _, e := range parseHelp(runHelp(t, "gpumon", c), "") {
			all[e.flag] = true
		}
	}
	for _, m := range regexp.MustCompile("(?:^|[\\s(`\"])(--[a-z][a-z0-9-]+(?:\\.[a-z0-9-]+)*)").FindAllStringSubmatch(text, -1) {
		if !all[m[1]] && !otherTools[m[1]] {
			t.Errorf("%s names %s, which no binary's --help lists", file, m[1])
		}
	}
	for _, name := range envName.FindAllString(text, -1) {
		if !all[name] && name != "GPUMON_PY_STUBS" {
			t.Errorf("%s names %s, which no binary reads", file, name)
		}
	}
}
