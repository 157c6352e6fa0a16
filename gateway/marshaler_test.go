package gateway

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// hinted is a body announcing a length, as limitBody's does; the length
// may be wrong.
type hinted struct {
	io.Reader
	n int64
}

func (h hinted) sizeHint() int64 { return h.n }

// TestDecoderReadsWholeBodies: a body is read whole whatever its announced
// length (right, short, long, unknown) and however it arrives (one byte at
// a time), and a message read before is not changed by the next body read
// into the same kept buffer.
func TestDecoderReadsWholeBodies(t *testing.T) {
	body := func(host string, procs int) string {
		var b strings.Builder
		fmt.Fprintf(&b, `{"hostname": %q, "system_info": {"processes": [`, host)
		for i := range procs {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, `{"pid": %d, "cmdline": "python train.py --run %s-%d"}`, i+1, host, i)
		}
		b.WriteString(`]}}`)
		return b.String()
	}
	var m Marshaler
	var kept []*gpumonv1.Report
	for i, tc := range []struct {
		name string
		r    func(string) io.Reader
	}{
		{"announced", func(s string) io.Reader { return hinted{strings.NewReader(s), int64(len(s))} }},
		{"announced short", func(s string) io.Reader { return hinted{strings.NewReader(s), 10} }},
		{"announced short, at a first buffer's size", func(s string) io.Reader { return hinted{strings.NewReader(s), 512} }},
		{"announced long", func(s string) io.Reader { return hinted{strings.NewReader(s), int64(3 * len(s))} }},
		{"unknown length", func(s string) io.Reader { return hinted{strings.NewReader(s), -1} }},
		{"no hint, a byte at a time", func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) }},
	} {
		host := fmt.Sprintf("node-%d", i)
		var r gpumonv1.Report
		if err := m.NewDecoder(tc.r(body(host, 50*(i+1)))).Decode(&r); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if r.Hostname != host || len(r.GetSystemInfo().GetProcesses()) != 50*(i+1) {
			t.Fatalf("%s: read %q with %d processes", tc.name, r.Hostname, len(r.GetSystemInfo().GetProcesses()))
		}
		kept = append(kept, &r)
	}
	for i, r := range kept {
		host := fmt.Sprintf("node-%d", i)
		for j, p := range r.SystemInfo.Processes {
			if want := fmt.Sprintf("python train.py --run %s-%d", host, j); r.Hostname != host || p.Cmdline != want {
				t.Fatalf("report %d changed after later bodies: %q, %q", i, r.Hostname, p.Cmdline)
			}
		}
	}
	exact := body("exact", 3)
	exact += strings.Repeat(" ", 512-len(exact)) // as long as a first buffer
	var r gpumonv1.Report
	if err := m.NewDecoder(hinted{strings.NewReader(exact), 512}).Decode(&r); err != nil || r.Hostname != "exact" {
		t.Fatalf("a body of exactly 512 bytes: %v, %q", err, r.Hostname)
	}
	if err := m.NewDecoder(bytes.NewReader(nil)).Decode(&r); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("an empty body: %v", err)
	}
	if err := m.NewDecoder(iotest.ErrReader(io.ErrUnexpectedEOF)).Decode(&r); err != io.ErrUnexpectedEOF {
		t.Fatalf("a failing body: %v", err)
	}
}

// TestBodyBufferGrowsWithWhatArrives: the buffer a body is read into grows
// with the bytes received, at most to twice them, whatever length the
// client announced; announced truly, it ends with room for the read that
// finds the end and at most a quarter more (append's growth rounds up).
func TestBodyBufferGrowsWithWhatArrives(t *testing.T) {
	for _, n := range []int{10, 600, 102400, 300000} {
		for _, hint := range []int64{-1, 10, int64(n), 1<<20 - 1, 1 << 40} {
			var buf []byte
			for len(buf) < n {
				if len(buf) == cap(buf) {
					buf = more(buf, hint)
				}
				buf = buf[:min(cap(buf), n)]
			}
			if cap(buf) > 2*n+1024 {
				t.Errorf("%d bytes announced as %d: a buffer of %d", n, hint, cap(buf))
			}
			if hint == int64(n) && (cap(buf) < n+1 || cap(buf) > n+n/4+1024) {
				t.Errorf("%d bytes announced truly: a buffer of %d", n, cap(buf))
			}
		}
	}
}
