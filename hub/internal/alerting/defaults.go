package alerting

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"text/template"
	"time"
)

// DefaultHotCelsius is the default temperature threshold of GpuTooHot.
const DefaultHotCelsius = 85

// DefaultRulesFile is the name of the file, in the hub's data directory,
// that holds the default rules.
const DefaultRulesFile = "default-rules.yml"

//go:embed default_rules.yml
var defaultRules string

// defaultTemplate fills in the hub's flags. Its delimiters are [[ ]]: the
// rules' own annotations use Prometheus' {{ }} templates.
var defaultTemplate = template.Must(template.New(DefaultRulesFile).Delims("[[", "]]").Parse(defaultRules))

// Defaults are the hub's flags the default rules use.
type Defaults struct {
	// IdleAfter: a GPU idle while held this long fires GpuIdleHeld.
	IdleAfter time.Duration
	// HotCelsius: a GPU at or above this temperature for 2 minutes fires
	// GpuTooHot.
	HotCelsius float64
}

// DefaultRules returns the default rule file for d.
func DefaultRules(d Defaults) ([]byte, error) {
	var b bytes.Buffer
	err := defaultTemplate.Execute(&b, map[string]string{
		"IdleAfterSeconds": strconv.FormatFloat(d.IdleAfter.Seconds(), 'f', -1, 64),
		"HotCelsius":       strconv.FormatFloat(d.HotCelsius, 'f', -1, 64),
	})
	if err != nil {
		return nil, fmt.Errorf("fill in the default rules: %w", err)
	}
	return b.Bytes(), nil
}

// writeDefaults writes the default rules into dir and returns the file's
// path. The file is replaced atomically, so a reader never sees half of it.
func writeDefaults(dir string, d Defaults) (string, error) {
	content, err := DefaultRules(d)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, DefaultRulesFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, content, 0o644); err != nil {
		return "", fmt.Errorf("write the default rules: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("write the default rules: %w", err)
	}
	return path, nil
}
