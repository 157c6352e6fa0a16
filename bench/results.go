package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Row is one line of the results table.
type Row struct {
	Section  string             `json:"section"`
	Name     string             `json:"name"`
	Baseline string             `json:"baseline,omitempty"`
	Hub      string             `json:"gpumon"`
	Ratio    string             `json:"ratio,omitempty"`
	Goal     string             `json:"goal,omitempty"`
	Status   string             `json:"status,omitempty"`
	Command  string             `json:"command"`
	Values   map[string]float64 `json:"values,omitempty"`
}

// Results is the whole run.
type Results struct {
	Machine Machine   `json:"machine"`
	Payload string    `json:"payload"`
	Started time.Time `json:"started"`
	Took    string    `json:"took"`
	Reps    int       `json:"reps"`
	Rows    []Row     `json:"rows"`
	Notes   []string  `json:"notes,omitempty"`
}

func (r Results) write(dir, doc string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	md := r.markdown()
	if err := os.WriteFile(filepath.Join(dir, "results.md"), []byte(md), 0o644); err != nil {
		return err
	}
	if doc != "" {
		return writeDoc(doc, md)
	}
	return nil
}

// Markers around the generated part of docs/BENCHMARKS.md.
const (
	beginMarker = "<!-- results: begin (written by make bench) -->"
	endMarker   = "<!-- results: end -->"
)

// writeDoc replaces the generated part of doc, keeping the prose around it.
func writeDoc(doc, md string) error {
	old, err := os.ReadFile(doc)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	s := string(old)
	i, j := strings.Index(s, beginMarker), strings.Index(s, endMarker)
	if i < 0 || j < i {
		s = "# Benchmarks\n\n" + beginMarker + "\n" + endMarker + "\n"
		i, j = strings.Index(s, beginMarker), strings.Index(s, endMarker)
	}
	s = s[:i+len(beginMarker)] + "\n" + md + s[j:]
	return os.WriteFile(doc, []byte(s), 0o644)
}

func (r Results) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Run of %s UTC, took %s (`make bench`).\n\n", r.Started.Format("2006-01-02 15:04"), r.Took)
	fmt.Fprintf(&b, "- **Machine:** %s\n", r.Machine)
	fmt.Fprintf(&b, "- **Payload:** %s\n", r.Payload)
	fmt.Fprintf(&b, "- **Method:** every figure is the median of %d runs unless it says otherwise; latency percentiles pool every request of those runs. Baseline = `bench/baseline/server.py` (Flask dev server, threaded) measured in the same run.\n\n", r.Reps)
	var sections []string
	for _, row := range r.Rows {
		if !slices.Contains(sections, row.Section) {
			sections = append(sections, row.Section)
		}
	}
	for _, sec := range sections {
		fmt.Fprintf(&b, "### %s\n\n| measurement | baseline | gpumon | ratio | goal | status |\n|---|---|---|---|---|---|\n", sec)
		for _, row := range r.Rows {
			if row.Section != sec {
				continue
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", row.Name, dash(row.Baseline), row.Hub, dash(row.Ratio), dash(row.Goal), dash(row.Status))
		}
		b.WriteString("\nReproduce:\n\n")
		var cmds []string
		for _, row := range r.Rows {
			if row.Section == sec && !slices.Contains(cmds, row.Command) {
				cmds = append(cmds, row.Command)
			}
		}
		for _, c := range cmds {
			fmt.Fprintf(&b, "- `%s`\n", c)
		}
		b.WriteString("\n")
	}
	if len(r.Notes) > 0 {
		b.WriteString("### Notes from this run\n\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func dash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func fmtMs(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms >= 100:
		return fmt.Sprintf("%.0f ms", ms)
	case ms >= 10:
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.2f ms", ms)
}

func fmtBytes(n float64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", n/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", n/(1<<10))
	}
	return fmt.Sprintf("%.0f B", n)
}

func fmtRate(r float64) string {
	if r >= 100 {
		return fmt.Sprintf("%.0f/s", r)
	}
	return fmt.Sprintf("%.1f/s", r)
}

func ratio(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) || x == 0 {
		return ""
	}
	if x >= 10 {
		return fmt.Sprintf("%.0f×", x)
	}
	return fmt.Sprintf("%.1f×", x)
}

// ratios writes two ratios of the same comparison, at the median and at the
// 99th percentile.
func ratios(p50, p99 float64) string {
	a, b := ratio(p50), ratio(p99)
	if a == "" || b == "" {
		return a
	}
	return "p50 " + a + ", p99 " + b
}

func verdict(ok bool, why string) string {
	if ok {
		return "met"
	}
	if why == "" {
		return "**missed**"
	}
	return "**missed**: " + why
}
