package app

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/term"
)

// width is the terminal's width, $COLUMNS, or 80.
func width(w io.Writer) int {
	cols, _ := termSize(w)
	return cols
}

// termSize is the terminal's width and height, else $COLUMNS and $LINES,
// else 80 by 24.
func termSize(w io.Writer) (int, int) {
	cols, rows := 0, 0
	if f, ok := w.(*os.File); ok {
		cols, rows, _ = term.GetSize(int(f.Fd()))
	}
	return sizeOr(cols, "COLUMNS", 40, 80), sizeOr(rows, "LINES", 10, 24)
}

// sizeOr is n when it is at least least, else the environment variable's
// value when that is, else def.
func sizeOr(n int, env string, least, def int) int {
	if n >= least {
		return n
	}
	if v, err := strconv.Atoi(os.Getenv(env)); err == nil && v >= least {
		return v
	}
	return def
}

// table prints aligned columns. Every column but the last keeps its widest
// cell up to its max; the last takes what is left of the line and is elided.
type table struct {
	head  []string
	max   []int // per column; 0: no limit
	right []bool
	rows  [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer, lineWidth int) {
	widths := make([]int, len(t.head))
	for _, row := range append([][]string{t.head}, t.rows...) {
		for i, cell := range row {
			n := utf8.RuneCountInString(cell)
			if t.max[i] > 0 && n > t.max[i] {
				n = t.max[i]
			}
			widths[i] = max(widths[i], n)
		}
	}
	used := 0
	for _, n := range widths[:len(widths)-1] {
		used += n + 2
	}
	last := len(widths) - 1
	widths[last] = max(min(widths[last], lineWidth-used), 8)
	for _, row := range append([][]string{t.head}, t.rows...) {
		var b strings.Builder
		for i, cell := range row {
			cell = elide(cell, widths[i])
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell))
			switch {
			case i == last && !t.right[i]:
				b.WriteString(cell)
			case t.right[i]:
				b.WriteString(pad + cell)
			default:
				b.WriteString(cell + pad)
			}
			if i < last {
				b.WriteString("  ")
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// elide shortens s to n runes, ending with "…" when it was cut.
func elide(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// shortGPUName drops the vendor prefix every name shares.
func shortGPUName(name string) string { return strings.TrimPrefix(name, "NVIDIA ") }

// mib formats MiB as GiB with one decimal.
func mib(v float64) string { return fmt.Sprintf("%.1fG", v/1024) }

func pct(v float64) string { return fmt.Sprintf("%.0f%%", v) }

func optU32(p *uint32, unit string) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%d%s", *p, unit)
}

// parseSize reads a memory size as MiB: "20G", "20GiB", "512M", "1.5T", or a
// plain number of MiB.
func parseSize(s string) (uint32, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(s)), "IB"), "B")
	mult := 1.0
	switch {
	case strings.HasSuffix(t, "T"):
		mult, t = 1024*1024, strings.TrimSuffix(t, "T")
	case strings.HasSuffix(t, "G"):
		mult, t = 1024, strings.TrimSuffix(t, "G")
	case strings.HasSuffix(t, "M"):
		t = strings.TrimSuffix(t, "M")
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || v*mult > 1<<31 {
		return 0, fmt.Errorf("%q is not a memory size such as 20G, 512M or 1.5T", s)
	}
	return uint32(v * mult), nil
}

// parseSince reads a duration that may use days: "7d", "36h", "1d12h".
func parseSince(s string) (time.Duration, error) {
	var days float64
	rest := s
	if i := strings.Index(s, "d"); i > 0 {
		d, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration such as 7d, 36h or 90m", s)
		}
		days, rest = d, s[i+1:]
	}
	var d time.Duration
	if rest != "" {
		var err error
		if d, err = time.ParseDuration(rest); err != nil {
			return 0, fmt.Errorf("%q is not a duration such as 7d, 36h or 90m", s)
		}
	}
	total := d + time.Duration(days*24*float64(time.Hour))
	if total <= 0 {
		return 0, fmt.Errorf("%q: want a duration above zero", s)
	}
	return total, nil
}

// ago formats how long ago t was, coarsely.
func ago(t time.Time, now time.Time) string {
	d := now.Sub(t).Round(time.Second)
	switch {
	case t.IsZero():
		return "never"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
