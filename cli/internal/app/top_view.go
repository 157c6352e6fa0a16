package app

import (
	"cmp"
	"fmt"
	"slices"
)

// sortKey orders gpumon top's process list.
type sortKey int

const (
	byMemory sortKey = iota // GPU memory, most first
	byUtil                  // SM utilisation, most first
	byUser                  // user name, A to Z
	byPID                   // PID, lowest first
	sortKeys
)

var sortNames = [sortKeys]string{"GPU memory", "SM util", "user", "PID"}

// key is one key press of gpumon top, decoded.
type key int

const (
	keyNone key = iota
	keyUp
	keyDown
	keyPageUp
	keyPageDown
	keyHome
	keyEnd
	keyEsc
	keyQuit // q, Q, Ctrl-C
	keyRune // a printable key, in the event's r
)

// keyEvent is a key and, for keyRune, its character.
type keyEvent struct {
	k key
	r rune
}

// parseKeys decodes what a raw-mode terminal sent: arrows and paging keys
// (xterm and VT sequences), Escape, Ctrl-C and plain characters.
// Sequences it does not know are dropped.
func parseKeys(b []byte) []keyEvent {
	var out []keyEvent
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == 3 || c == 'q' || c == 'Q':
			out = append(out, keyEvent{k: keyQuit})
		case c == 0x1b && i+1 < len(b) && (b[i+1] == '[' || b[i+1] == 'O'):
			k, n := parseEscape(b[i+2:])
			if k != keyNone {
				out = append(out, keyEvent{k: k})
			}
			i += 1 + n
		case c == 0x1b:
			out = append(out, keyEvent{k: keyEsc})
		case c >= 0x20 && c < 0x7f:
			out = append(out, keyEvent{k: keyRune, r: rune(c)})
		case c == '\r' || c == '\n':
			out = append(out, keyEvent{k: keyRune, r: '\n'})
		}
	}
	return out
}

// parseEscape reads the rest of an ESC [ or ESC O sequence and returns the
// key and how many bytes it used.
func parseEscape(b []byte) (key, int) {
	n := 0
	for n < len(b) && (b[n] >= '0' && b[n] <= '9' || b[n] == ';') {
		n++
	}
	if n == len(b) {
		return keyNone, n
	}
	final, params := b[n], string(b[:n])
	n++
	switch {
	case final == 'A':
		return keyUp, n
	case final == 'B':
		return keyDown, n
	case final == 'H' || (final == '~' && (params == "1" || params == "7")):
		return keyHome, n
	case final == 'F' || (final == '~' && (params == "4" || params == "8")):
		return keyEnd, n
	case final == '~' && params == "5":
		return keyPageUp, n
	case final == '~' && params == "6":
		return keyPageDown, n
	}
	return keyNone, n
}

// topView is the state of gpumon top's screen: the latest update, how the
// processes are sorted, which one is selected, and what the user is asked
// or told.
type topView struct {
	update   TopJSON
	procs    []ProcessJSON // update.Processes in display order
	sort     sortKey
	reverse  bool
	selected int32 // PID; 0: none
	offset   int   // first process row on screen
	rows     int   // process rows that fit the screen (for paging)
	help     bool
	confirm  int32  // PID waiting for y/n; 0: none
	target   int32  // PID of the kill on its way; 0: none
	status   string // the last kill's outcome or a notice
	canKill  bool   // an admin token is configured
}

// setUpdate shows a new update, keeping the selected process when it is
// still there.
func (v *topView) setUpdate(u TopJSON) {
	v.update = u
	v.resort()
}

func (v *topView) resort() {
	v.procs = append(v.procs[:0], v.update.Processes...)
	slices.SortStableFunc(v.procs, func(a, b ProcessJSON) int {
		c := compareProcs(v.sort, a, b)
		if v.reverse {
			c = -c
		}
		return cmp.Or(c, cmp.Compare(a.PID, b.PID))
	})
	idx := v.index()
	switch {
	case len(v.procs) == 0:
		v.selected = 0
	case idx < 0:
		v.selected = v.procs[0].PID
	}
	v.scroll()
}

func compareProcs(k sortKey, a, b ProcessJSON) int {
	switch k {
	case byUtil:
		return cmp.Compare(util(b), util(a))
	case byUser:
		return cmp.Or(cmp.Compare(a.User, b.User), cmp.Compare(b.GPUMemory, a.GPUMemory))
	case byPID:
		return cmp.Compare(a.PID, b.PID)
	}
	return cmp.Compare(b.GPUMemory, a.GPUMemory)
}

// util is a process's SM utilisation; -1 when the agent could not read it.
func util(p ProcessJSON) int64 {
	if p.SMUtilization == nil {
		return -1
	}
	return int64(*p.SMUtilization)
}

// index is the selected process's row, or -1.
func (v *topView) index() int {
	return slices.IndexFunc(v.procs, func(p ProcessJSON) bool { return p.PID == v.selected })
}

// move selects the process delta rows away, within the list.
func (v *topView) move(delta int) {
	if len(v.procs) == 0 {
		return
	}
	i := max(0, min(len(v.procs)-1, v.index()+delta))
	v.selected = v.procs[i].PID
	v.scroll()
}

// scroll keeps the selected row on screen.
func (v *topView) scroll() {
	i := max(v.index(), 0)
	rows := max(v.rows, 1)
	if i < v.offset {
		v.offset = i
	}
	if i >= v.offset+rows {
		v.offset = i - rows + 1
	}
	v.offset = max(0, min(v.offset, len(v.procs)-rows))
}

// topAction is what a key asks the command loop to do.
type topAction int

const (
	actNone topAction = iota
	actQuit
	actKill // stop v.target (the prompt has just been answered yes)
)

// press handles one key.
func (v *topView) press(e keyEvent) topAction {
	switch {
	case e.k == keyQuit && v.confirm == 0:
		return actQuit
	case v.help:
		v.help = false // any key closes the help
		return actNone
	case v.confirm != 0:
		return v.answer(e)
	}
	page := max(v.rows-1, 1)
	switch e.k {
	case keyUp:
		v.move(-1)
	case keyDown:
		v.move(1)
	case keyPageUp:
		v.move(-page)
	case keyPageDown:
		v.move(page)
	case keyHome:
		v.move(-len(v.procs))
	case keyEnd:
		v.move(len(v.procs))
	case keyEsc:
		v.status = ""
	case keyRune:
		v.rune(e.r)
	}
	return actNone
}

func (v *topView) rune(r rune) {
	switch r {
	case '?', 'h':
		v.help = true
	case 'm':
		v.sortBy(byMemory)
	case 'u':
		v.sortBy(byUtil)
	case 'n':
		v.sortBy(byUser)
	case 'p':
		v.sortBy(byPID)
	case '>', '.':
		v.sortBy((v.sort + 1) % sortKeys)
	case '<', ',':
		v.sortBy((v.sort + sortKeys - 1) % sortKeys)
	case 'r':
		v.reverse = !v.reverse
		v.resort()
	case 'k':
		v.askKill()
	}
}

func (v *topView) sortBy(k sortKey) {
	v.sort, v.reverse = k, false
	v.resort()
}

func (v *topView) askKill() {
	switch {
	case v.target != 0:
		v.status = "a kill is still on its way"
	case v.index() < 0:
		v.status = "no process selected"
	case !v.canKill:
		v.status = "stopping a process needs the admin token (--admin-token, GPUMON_ADMIN_TOKEN or admin-token in the config file)"
	default:
		v.confirm = v.selected
	}
}

// answer handles the key pressed at "stop PID …? [y/N]".
func (v *topView) answer(e keyEvent) topAction {
	if e.k == keyRune && (e.r == 'y' || e.r == 'Y') {
		v.target, v.confirm = v.confirm, 0
		v.status = fmt.Sprintf("stopping PID %d…", v.target)
		return actKill
	}
	v.confirm = 0
	v.status = "not stopped"
	return actNone
}

// killDone shows a kill's outcome.
func (v *topView) killDone(msg string) {
	v.target, v.status = 0, msg
}
