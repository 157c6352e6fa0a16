package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// writeTop prints one frame of gpumon top. live clears the screen first and
// writes CR LF line ends (the terminal is in raw mode); otherwise frames
// follow one another, separated by a blank line.
func writeTop(w io.Writer, u TopJSON, live bool, cols int) {
	var b bytes.Buffer
	m := u.Machine
	state := "online"
	if !m.Online {
		state = "OFFLINE"
	}
	fmt.Fprintf(&b, "%s  %s  %s  sampled %s\n", elide(m.Host, 30), state, m.IPAddress,
		m.LastSeen.Local().Format(time.TimeOnly))
	fmt.Fprintf(&b, "CPU %s  memory %s  disk %s  GPUs %d/%d busy  GPU memory %s/%s\n\n",
		pct(m.CPUPercent), pct(m.MemoryPercent), pct(m.DiskPercent), m.GPUsBusy, m.GPUs,
		mib(float64(m.GPUMemoryUsed)), mib(float64(m.GPUMemoryTotal)))
	gt := &table{
		head:  []string{"GPU", "UTIL", "", "MEMORY", "TEMP", "POWER", "NAME"},
		max:   []int{0, 0, 0, 0, 0, 0, 0},
		right: []bool{true, true, false, true, true, true, false},
	}
	for _, g := range u.GPUs {
		util := 0.0
		if g.Utilization != nil {
			util = float64(*g.Utilization)
		}
		gt.add(fmt.Sprint(g.Index), optU32(g.Utilization, "%"), bar(util, 10),
			mib(float64(g.MemoryUsed))+"/"+mib(float64(g.MemoryTotal)), optU32(g.Temperature, "C"),
			power(g.PowerDraw, g.PowerLimit), shortGPUName(g.Name))
	}
	gt.write(&b, cols)
	b.WriteString("\n")
	if len(u.Processes) == 0 {
		b.WriteString("no GPU processes\n")
	} else {
		e := &env{IO: IO{Out: &b}}
		writeProcesses(e, u.Processes, false)
	}
	if !live {
		b.WriteString("\n")
		_, _ = w.Write(b.Bytes())
		return
	}
	b.WriteString("\nq or Ctrl-C quits")
	frame := strings.ReplaceAll(b.String(), "\n", "\x1b[K\r\n")
	_, _ = io.WriteString(w, "\x1b[H\x1b[2J"+frame)
}

// bar draws a utilisation bar of n cells.
func bar(percent float64, n int) string {
	full := int(percent/100*float64(n) + 0.5)
	full = max(0, min(full, n))
	return "[" + strings.Repeat("#", full) + strings.Repeat(".", n-full) + "]"
}

func power(draw, limit *float64) string {
	switch {
	case draw == nil:
		return "-"
	case limit == nil:
		return fmt.Sprintf("%.0fW", *draw)
	}
	return fmt.Sprintf("%.0f/%.0fW", *draw, *limit)
}

// writeJSONLine writes v as one line of JSON.
func writeJSONLine(w io.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}
