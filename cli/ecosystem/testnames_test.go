//go:build ecosystem

package ecosystem

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	docTestRe  = regexp.MustCompile("`((?:Test|Fuzz)[A-Z][A-Za-z0-9_]*)`")
	docFileRe  = regexp.MustCompile("`((?:agent|hub|cli|common|gateway|webui|bench)/[A-Za-z0-9_./-]+\\.(?:go|tsx?|mjs))`")
	goTestFunc = regexp.MustCompile(`(?m)^func ((?:Test|Fuzz)[A-Za-z0-9_]*)\(`)
)

// TestReadmeAndDocsNameRealTests: a doc that says which test holds a
// behaviour names a test that exists, and a test file that exists; a
// renamed or deleted test leaves no statement pointing at nothing.
func TestReadmeAndDocsNameRealTests(t *testing.T) {
	tests := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range goTestFunc.FindAllSubmatch(b, -1) {
			tests[string(m[1])] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	docs, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	docs = append(docs, filepath.Join(root, "README.md"), filepath.Join(root, "README.zh-CN.md"), filepath.Join(root, "deploy", "README.md"))
	named := 0
	for _, doc := range docs {
		rel, _ := filepath.Rel(root, doc)
		text := readFile(t, rel)
		for _, m := range docTestRe.FindAllStringSubmatch(text, -1) {
			named++
			if !tests[m[1]] {
				t.Errorf("%s names %s, which no _test.go file defines", rel, m[1])
			}
		}
		for _, m := range docFileRe.FindAllStringSubmatch(text, -1) {
			if !strings.Contains(m[1], "test") && !strings.HasPrefix(m[1], "webui/e2e/") {
				continue
			}
			if _, err := os.Stat(filepath.Join(root, m[1])); err != nil {
				t.Errorf("%s names the test file %s: %v", rel, m[1], err)
			}
		}
	}
	if named < 20 {
		t.Errorf("the docs name %d tests; the pattern no longer finds them", named)
	}
}
