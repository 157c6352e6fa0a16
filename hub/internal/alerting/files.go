package alerting

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

// ruleSet is the rule files the hub evaluates, as read at one time.
type ruleSet struct {
	files []string
	// sum covers the file names and contents: a changed sum means the
	// rules changed on disk.
	sum [sha256.Size]byte
	// groups counts the rule groups, alerting the alerting rules.
	groups, alerting int
}

// CheckPatterns validates --rules patterns before any file is read: each is
// a valid glob.
func CheckPatterns(patterns []string) error {
	var errs []error
	for _, p := range patterns {
		if p == "" {
			errs = append(errs, errors.New("--rules: empty file name"))
			continue
		}
		if _, err := filepath.Match(p, ""); err != nil {
			errs = append(errs, fmt.Errorf("--rules %q: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// expand turns patterns into the sorted list of files they name. A pattern
// without glob characters names a file that must exist; a glob may match
// nothing (files may be added later and are picked up on reload).
func expand(patterns []string) ([]string, error) {
	var out []string
	var errs []error
	for _, p := range patterns {
		if !hasMeta(p) {
			if _, err := os.Stat(p); err != nil {
				errs = append(errs, fmt.Errorf("rule file: %w", err))
				continue
			}
			out = append(out, filepath.Clean(p))
			continue
		}
		matches, err := filepath.Glob(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("rule files %q: %w", p, err))
			continue
		}
		for _, m := range matches {
			if st, err := os.Stat(m); err == nil && st.Mode().IsRegular() {
				out = append(out, filepath.Clean(m))
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), errors.Join(errs...)
}

func hasMeta(p string) bool { return strings.ContainsAny(p, `*?[\`) }

// read parses and validates every file as Prometheus would load it. The
// error names each file with the line, column and reason of each problem.
func read(files []string, p parser.Parser, log *slog.Logger) (ruleSet, error) {
	set := ruleSet{files: files}
	h := sha256.New()
	var errs []error
	for _, f := range files {
		content, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("read rule file: %w", err))
			continue
		}
		fmt.Fprintf(h, "%s\x00%d\x00", f, len(content))
		h.Write(content)
		groups, perrs := rulefmt.Parse(content, false, model.UTF8Validation, p, log)
		seen := map[string]bool{} // a YAML error comes twice, from two decoders
		for _, e := range perrs {
			if !seen[e.Error()] {
				seen[e.Error()] = true
				errs = append(errs, fmt.Errorf("rule file %s: %w", f, e))
			}
		}
		if groups == nil {
			continue
		}
		for _, g := range groups.Groups {
			set.groups++
			for _, r := range g.Rules {
				if r.Alert != "" {
					set.alerting++
				}
			}
		}
	}
	copy(set.sum[:], h.Sum(nil))
	return set, errors.Join(errs...)
}
