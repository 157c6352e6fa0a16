package app

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// SGR sequences of gpumon top's colours.
const (
	sgrReset   = "\x1b[0m"
	sgrBold    = "\x1b[1m"
	sgrReverse = "\x1b[7m"
	sgrRed     = "\x1b[31m"
	sgrGreen   = "\x1b[32m"
	sgrYellow  = "\x1b[33m"
	sgrCyan    = "\x1b[36m"
)

// Load thresholds (percent) and temperature thresholds (°C) for colours.
const (
	loadModerate, loadHeavy = 50, 80
	tempWarm, tempHot       = 70, 85
)

func loadColour(percent float64) string {
	switch {
	case percent >= loadHeavy:
		return sgrRed
	case percent >= loadModerate:
		return sgrYellow
	}
	return sgrGreen
}

func tempColour(c *uint32) string {
	switch {
	case c == nil:
		return ""
	case *c >= tempHot:
		return sgrRed
	case *c >= tempWarm:
		return sgrYellow
	}
	return sgrGreen
}

// screen is the size and abilities of where gpumon top draws.
type screen struct {
	width, height int
	colour        bool // ANSI colours (a terminal, NO_COLOR unset)
	live          bool // redrawn in place, keys read: a footer and a selection
	maxProcs      int  // --procs
	loc           *time.Location
}

// frame is one rendering of gpumon top, line by line.
type frame struct {
	s     screen
	lines []string
}

// add appends a line whose visible text is plain, painted with sgr.
func (f *frame) add(plain, sgr string) {
	f.lines = append(f.lines, paint(f.s.colour, sgr, cut(plain, f.s.width)))
}

func paint(on bool, sgr, s string) string {
	if !on || sgr == "" || s == "" {
		return s
	}
	return sgr + s + sgrReset
}

// cut shortens s to n columns, ending with "…" when it was cut.
func cut(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// renderTop draws v on s. It sets how many process rows fit, so that the
// view pages by screens.
func renderTop(v *topView, s screen) []string {
	f := &frame{s: s}
	m := v.update.Machine
	state, stateColour := "online", sgrGreen
	if !m.Online {
		state, stateColour = "OFFLINE", sgrRed
	}
	host := cut(m.Host, 30)
	at := m.LastSeen.In(s.loc).Format(time.TimeOnly)
	head := fmt.Sprintf("%s  %s  %s  sampled %s", host, state, m.IPAddress, at)
	if utf8.RuneCountInString(head) > s.width {
		head = fmt.Sprintf("%s  %s  %s", host, state, at)
	}
	f.lines = append(f.lines, cutPainted(s, head, []span{{0, len(host), sgrBold}, {len(host) + 2, len(host) + 2 + len(state), stateColour}}))
	f.add(machineLine(m, s.width), "")
	f.add("", "")
	if v.help && s.live {
		for _, l := range topHelp {
			f.add(l, "")
		}
		return f.lines
	}
	gpuGrid(v.update.GPUs, s).write(f)
	f.add("", "")
	procs := v.procs
	if s.live {
		fixed := len(f.lines) + 3 // process header, status, footer
		v.rows = max(1, s.height-fixed)
		if s.maxProcs > 0 {
			v.rows = min(v.rows, s.maxProcs)
		}
		v.scroll()
		procs = procs[v.offset:min(len(procs), v.offset+v.rows)]
	} else if s.maxProcs >= 0 && len(procs) > s.maxProcs {
		procs = procs[:s.maxProcs]
	}
	if len(procs) == 0 {
		f.add("no GPU processes", "")
	} else {
		procGrid(procs, v, s).write(f)
	}
	if s.live {
		f.add(v.statusLine(s.width), v.statusColour())
		f.add(footer(v, s.width), "")
	}
	return f.lines
}

// span paints bytes [from, to) of a line.
type span struct {
	from, to int
	sgr      string
}

// cutPainted cuts line to the screen's width and paints its spans (which
// must not overlap and must be in order).
func cutPainted(s screen, line string, spans []span) string {
	whole := line
	line = cut(line, s.width)
	if !s.colour {
		return line
	}
	keep := len(line) // spans end where the text was cut
	if line != whole {
		keep -= len("…")
	}
	var b strings.Builder
	at := 0
	for _, sp := range spans {
		from, to := min(sp.from, keep), min(sp.to, keep)
		if from >= to {
			continue
		}
		b.WriteString(line[at:from])
		b.WriteString(paint(true, sp.sgr, line[from:to]))
		at = to
	}
	b.WriteString(line[at:])
	return b.String()
}

// machineLine is the machine's figures, shorter on narrow screens.
func machineLine(m MachineJSON, width int) string {
	mem := mib(float64(m.GPUMemoryUsed)) + "/" + mib(float64(m.GPUMemoryTotal))
	long := fmt.Sprintf("CPU %s  memory %s  disk %s  GPUs %d/%d busy  GPU memory %s",
		pct(m.CPUPercent), pct(m.MemoryPercent), pct(m.DiskPercent), m.GPUsBusy, m.GPUs, mem)
	if utf8.RuneCountInString(long) <= width {
		return long
	}
	return fmt.Sprintf("CPU %s  mem %s  disk %s  GPUs %d/%d  GPU mem %s",
		pct(m.CPUPercent), pct(m.MemoryPercent), pct(m.DiskPercent), m.GPUsBusy, m.GPUs, mem)
}

var topHelp = []string{
	"Keys",
	"  ↑ ↓ PgUp PgDn Home End  select a process",
	"  k         stop the selected process: SIGTERM, after",
	"            asking; needs the admin token",
	"  m u n p   sort by GPU memory, SM util, user, PID",
	"  < >       previous / next sort order",
	"  r         reverse the order",
	"  Esc       clear the message line",
	"  ?         this help; any key closes it",
	"  q Ctrl-C  quit",
	"",
	"Colours: utilisation and memory green below 50%,",
	"yellow below 80%, red above; temperature green below",
	"70C, yellow below 85C, red above. NO_COLOR turns them off.",
}

// statusLine is the prompt or the last message, fitted to width: a prompt
// cuts the command line, never the question.
func (v *topView) statusLine(width int) string {
	if v.confirm == 0 {
		return v.status
	}
	p := v.procByPID(v.confirm)
	head := fmt.Sprintf("Stop PID %d (", v.confirm)
	tail := fmt.Sprintf(") on %s with SIGTERM? [y/N]", cut(v.update.Machine.Host, 20))
	room := width - utf8.RuneCountInString(head) - utf8.RuneCountInString(tail)
	return head + cut(p.User+": "+commandLine(p), room) + tail
}

func (v *topView) statusColour() string {
	switch {
	case v.confirm != 0:
		return sgrBold + sgrYellow
	case strings.Contains(v.status, ": error") || strings.HasPrefix(v.status, "stop"):
		return sgrRed
	case strings.Contains(v.status, ": success"):
		return sgrGreen
	}
	return ""
}

func (v *topView) procByPID(pid int32) ProcessJSON {
	for _, p := range v.procs {
		if p.PID == pid {
			return p
		}
	}
	return ProcessJSON{PID: pid}
}

func commandLine(p ProcessJSON) string {
	if p.Command != "" {
		return p.Command
	}
	return p.Name
}

func footer(v *topView, width int) string {
	order := sortNames[v.sort]
	if v.reverse {
		order += ", reversed"
	}
	for _, f := range []string{
		"↑↓ select  k stop  ? help  q quit    sort: %s (m u n p, r)",
		"↑↓ k stop  ? help  q quit  sort: %s",
		"? help  q quit  sort: %s",
	} {
		if line := fmt.Sprintf(f, order); utf8.RuneCountInString(line) <= width {
			return line
		}
	}
	return "? help  q quit"
}
