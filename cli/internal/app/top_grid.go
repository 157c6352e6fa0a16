package app

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// column is one column of a gpumon top grid.
type column struct {
	head  string
	right bool
	max   int // widest it grows; 0: no limit
	drop  int // dropped on narrow screens, highest first; 0: kept
}

// grid lays out columns to fit a screen: columns are dropped (highest drop
// first) until the last one has room, and the last one takes what is left.
// Cells are painted after layout, so colours never change the widths.
type grid struct {
	cols  []column
	rows  [][]string
	cell  func(row, col int) string // SGR of a cell; may be nil
	row   func(row int) string      // SGR of a whole row; may be nil
	lastW int                       // the last column needs at least this to stay
}

func (g *grid) write(f *frame) {
	keep := g.fit(f.s.width)
	widths := make([]int, len(g.cols))
	for _, c := range keep {
		widths[c] = g.width(c)
	}
	last := keep[len(keep)-1]
	used := 0
	for _, c := range keep[:len(keep)-1] {
		used += widths[c] + 2
	}
	widths[last] = max(min(widths[last], f.s.width-used), 1)
	head := make([]string, 0, len(keep))
	for _, c := range keep {
		head = append(head, pad(g.cols[c], g.cols[c].head, widths[c], c == last))
	}
	f.add(strings.Join(head, "  "), sgrBold)
	for r, row := range g.rows {
		cells := make([]string, 0, len(keep))
		for _, c := range keep {
			text := pad(g.cols[c], cut(row[c], widths[c]), widths[c], c == last && g.row == nil)
			if g.cell != nil && (g.row == nil || g.row(r) == "") {
				text = paint(f.s.colour, g.cell(r, c), text)
			}
			cells = append(cells, text)
		}
		line := strings.Join(cells, "  ")
		if g.row != nil && f.s.colour {
			line = paint(true, g.row(r), line)
		}
		if g.row == nil || !f.s.colour {
			line = strings.TrimRight(line, " ")
		}
		f.lines = append(f.lines, line)
	}
}

// fit returns the columns that fit width, in order.
func (g *grid) fit(width int) []int {
	dropped := map[int]bool{}
	for {
		var keep []int
		used := 0
		for c := range g.cols {
			if !dropped[c] {
				keep = append(keep, c)
				used += g.width(c) + 2
			}
		}
		used -= g.width(keep[len(keep)-1]) + 2
		if width-used >= min(g.lastW, g.width(keep[len(keep)-1])) {
			return keep
		}
		next, rank := -1, 0
		for _, c := range keep {
			if g.cols[c].drop > rank {
				next, rank = c, g.cols[c].drop
			}
		}
		if next < 0 {
			return keep
		}
		dropped[next] = true
	}
}

// width is the widest cell of column c, head included, up to its max.
func (g *grid) width(c int) int {
	n := utf8.RuneCountInString(g.cols[c].head)
	for _, row := range g.rows {
		n = max(n, utf8.RuneCountInString(row[c]))
	}
	if m := g.cols[c].max; m > 0 {
		n = min(n, m)
	}
	return n
}

// pad fills text to w columns; the last column is not padded (no trailing
// blanks) unless the row is highlighted as a whole.
func pad(c column, text string, w int, last bool) string {
	fill := strings.Repeat(" ", max(0, w-utf8.RuneCountInString(text)))
	switch {
	case c.right:
		return fill + text
	case last:
		return text
	}
	return text + fill
}

// gpuGrid lays out the GPUs of an update.
func gpuGrid(gpus []GPUJSON, s screen) *grid {
	g := &grid{
		cols: []column{
			{head: "GPU", right: true}, {head: "UTIL", right: true}, {head: "", drop: 3},
			{head: "MEMORY", right: true}, {head: "TEMP", right: true}, {head: "POWER", right: true, drop: 2},
			{head: "NAME", drop: 1},
		},
		lastW: 8,
	}
	for _, gp := range gpus {
		util := 0.0
		if gp.Utilization != nil {
			util = float64(*gp.Utilization)
		}
		g.rows = append(g.rows, []string{
			fmt.Sprint(gp.Index), optU32(gp.Utilization, "%"), bar(util, 10),
			mib(float64(gp.MemoryUsed)) + "/" + mib(float64(gp.MemoryTotal)), optU32(gp.Temperature, "C"),
			power(gp.PowerDraw, gp.PowerLimit), shortGPUName(gp.Name),
		})
	}
	g.cell = func(r, c int) string {
		gp := gpus[r]
		switch c {
		case 1, 2:
			if gp.Utilization == nil {
				return ""
			}
			return loadColour(float64(*gp.Utilization))
		case 3:
			if gp.MemoryTotal == 0 {
				return ""
			}
			return loadColour(100 * float64(gp.MemoryUsed) / float64(gp.MemoryTotal))
		case 4:
			return tempColour(gp.Temperature)
		}
		return ""
	}
	return g
}

// procGrid lays out the processes on screen; live screens mark the
// selected one.
func procGrid(procs []ProcessJSON, v *topView, s screen) *grid {
	g := &grid{
		cols: []column{
			{head: " "}, {head: "PID", right: true}, {head: "USER", max: 10, drop: 2}, {head: "GPU", max: 7, drop: 3},
			{head: "GPU MEM", right: true}, {head: "SM", right: true, drop: 4}, {head: "WHERE", max: 16, drop: 5},
			{head: "COMMAND"},
		},
		lastW: 16,
	}
	for _, p := range procs {
		gpus := make([]string, len(p.GPUs))
		for i, id := range p.GPUs {
			gpus[i] = fmt.Sprint(id)
		}
		mark := " "
		if s.live && p.PID == v.selected {
			mark = ">"
		}
		g.rows = append(g.rows, []string{mark, fmt.Sprint(p.PID), p.User, strings.Join(gpus, ","),
			mib(float64(p.GPUMemory)), optU32(p.SMUtilization, "%"), where(p), commandLine(p)})
	}
	if !s.live {
		g.cols, g.rows = g.cols[1:], dropFirst(g.rows)
		return g
	}
	g.cell = func(r, c int) string {
		if c == 5 && procs[r].SMUtilization != nil {
			return loadColour(float64(*procs[r].SMUtilization))
		}
		if c == 6 && procs[r].ContainerID != "" {
			return sgrCyan
		}
		return ""
	}
	g.row = func(r int) string {
		if procs[r].PID == v.selected {
			return sgrReverse
		}
		return ""
	}
	return g
}

func dropFirst(rows [][]string) [][]string {
	for i := range rows {
		rows[i] = rows[i][1:]
	}
	return rows
}
