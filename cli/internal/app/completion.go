package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
)

func completionCommand() *command {
	return &command{
		name:    "completion",
		args:    "bash|zsh|fish",
		summary: "print a shell completion script",
		run:     runCompletion,
	}
}

const completionHelp = `  bash: gpumon completion bash > /etc/bash_completion.d/gpumon   (or: source <(gpumon completion bash))
  zsh:  gpumon completion zsh > "${fpath[1]}/_gpumon"              (then restart zsh)
  fish: gpumon completion fish > ~/.config/fish/completions/gpumon.fish`

func runCompletion(_ context.Context, e *env, args []string) error {
	if len(args) != 1 {
		return usageError("completion needs one shell: bash, zsh or fish\n%s", completionHelp)
	}
	switch args[0] {
	case "bash":
		writeBash(e.Out)
	case "zsh":
		fmt.Fprintln(e.Out, "#compdef gpumon")
		fmt.Fprintln(e.Out, "autoload -U +X bashcompinit && bashcompinit")
		writeBash(e.Out)
	case "fish":
		writeFish(e.Out)
	default:
		return usageError("unknown shell %q: want bash, zsh or fish", args[0])
	}
	return nil
}

// commandFlags lists the flags a command accepts, as --name.
func commandFlags(c *command) []string {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	(&commonFlags{}).register(fs)
	if c != nil && c.flags != nil {
		c.flags(fs, &opts{})
	}
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, "--"+f.Name) })
	return names
}

func commandNames() []string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return names
}

func writeBash(w io.Writer) {
	fmt.Fprintf(w, `# bash completion for gpumon
_gpumon() {
  local cur cmd i
  cur="${COMP_WORDS[COMP_CWORD]}"
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "${COMP_WORDS[i]}" in -*) ;; *) cmd="${COMP_WORDS[i]}"; break ;; esac
  done
  case "$cmd" in
`)
	for _, c := range commands() {
		words := commandFlags(c)
		if c.name == "completion" {
			words = append(words, "bash", "zsh", "fish")
		}
		fmt.Fprintf(w, "    %s) COMPREPLY=($(compgen -W %q -- \"$cur\")) ;;\n", c.name, strings.Join(words, " "))
	}
	fmt.Fprintf(w, "    *) COMPREPLY=($(compgen -W %q -- \"$cur\")) ;;\n  esac\n}\ncomplete -F _gpumon gpumon\n",
		strings.Join(append(commandNames(), append(commandFlags(nil), "--version", "--help")...), " "))
}

func writeFish(w io.Writer) {
	fmt.Fprintln(w, "# fish completion for gpumon")
	cmds := strings.Join(commandNames(), " ")
	for _, c := range commands() {
		fmt.Fprintf(w, "complete -c gpumon -f -n 'not __fish_seen_subcommand_from %s' -a %s -d %q\n", cmds, c.name, c.summary)
	}
	fmt.Fprintln(w, "complete -c gpumon -f -n 'not __fish_seen_subcommand_from "+cmds+"' -l version -d 'print the version'")
	for _, c := range commands() {
		for _, f := range commandFlags(c) {
			fmt.Fprintf(w, "complete -c gpumon -f -n '__fish_seen_subcommand_from %s' -l %s\n", c.name, strings.TrimPrefix(f, "--"))
		}
	}
	fmt.Fprintln(w, "complete -c gpumon -f -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'")
}
