// Package proclimit cuts a report's process list to what a hub stores
// (--max-report-processes, --max-report-bytes), keeping what readers need
// most: the processes using a GPU, then the busiest of the others.
//
// A machine running more processes than the hub takes is shown with its
// list cut, never refused: an agent replays a refused snapshot, so a refusal
// would stop every later snapshot of the machine behind it.
package proclimit

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// Collector is the name of the collector status a cut is noted in.
const Collector = "process"

// rank orders processes from the most needed to the least: those using a
// GPU, then by CPU %, then by resident memory, then by PID. cmp.Compare
// keeps the order total with NaN figures (an agent cuts before the hub
// cleans them).
func rank(a, b *gpumonv1.Process) int {
	return cmp.Or(
		cmp.Compare(b2i(b.GetIsGpuProcess()), b2i(a.GetIsGpuProcess())),
		cmp.Compare(b.GetCpuPercent(), a.GetCpuPercent()),
		cmp.Compare(b.GetRss(), a.GetRss()),
		cmp.Compare(a.GetPid(), b.GetPid()),
	)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ranked is the indices of procs, the most needed first.
func ranked(procs []*gpumonv1.Process) []int {
	idx := make([]int, len(procs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(i, j int) int { return rank(procs[i], procs[j]) })
	return idx
}

// keep sets r's process list to the processes of procs (its list) at the
// indices kept, in their order in procs. kept is not changed.
func keep(r *gpumonv1.Report, procs []*gpumonv1.Process, kept []int) {
	kept = slices.Sorted(slices.Values(kept))
	out := make([]*gpumonv1.Process, len(kept))
	for i, k := range kept {
		out[i] = procs[k]
	}
	r.SystemInfo.Processes = out
}

// Cut keeps at most n of r's processes (system_info.processes), the most
// needed ones, in their order. It returns how many it dropped; n <= 0 keeps
// every process.
func Cut(r *gpumonv1.Report, n int) int {
	procs := r.GetSystemInfo().GetProcesses()
	if n <= 0 || len(procs) <= n {
		return 0
	}
	keep(r, procs, ranked(procs)[:n])
	return len(procs) - n
}

// fit drops the least needed of r's processes until r, size bytes now, is
// at most maxBytes, and says whether it is.
func fit(r *gpumonv1.Report, size, maxBytes int) bool {
	procs := r.GetSystemInfo().GetProcesses()
	order := ranked(procs)
	n := len(order)
	// Each process is a length-delimited field of one tag byte
	// (system_info field 11). Subtracting the fields alone over-counts
	// what is left (system_info's own length prefix shrinks too), so a
	// size reached here is an upper bound.
	for n > 0 && size > maxBytes {
		n--
		size -= 1 + protowire.SizeBytes(proto.Size(procs[order[n]]))
	}
	if n < len(procs) {
		keep(r, procs, order[:n])
	}
	return size <= maxBytes
}

// Limit cuts r's process list to at most maxProcs processes and r to at
// most maxBytes (either <= 0: no bound), and notes a cut in r's "process"
// collector status, within maxBytes. It returns how many processes it
// dropped, and false when r is over maxBytes even without its process
// list.
func Limit(r *gpumonv1.Report, maxProcs, maxBytes int) (dropped int, ok bool) {
	total := len(r.GetSystemInfo().GetProcesses())
	var why []string
	if Cut(r, maxProcs) > 0 {
		why = append(why, fmt.Sprintf("at most %d processes", maxProcs))
	}
	ok = true
	if maxBytes > 0 {
		// Room for the note a cut adds, at its longest (the counts
		// cannot get longer), with its collector status around it.
		room := func() int { return len(note(r, total, total, why)) + 32 }
		need := 0
		if len(why) > 0 {
			need = room()
		}
		// Most reports are far below the limit: a bound that does not
		// size every process spares proto.Size's walk of them.
		if sizeAtMost(r)+need > maxBytes {
			if size := proto.Size(r); size+need > maxBytes {
				why = append(why, fmt.Sprintf("at most %d bytes", maxBytes))
				ok = fit(r, size, maxBytes-room())
			}
		}
	}
	dropped = total - len(r.GetSystemInfo().GetProcesses())
	if ok && dropped > 0 {
		setNote(r, note(r, total-dropped, total, why))
	}
	return dropped, ok
}

// sizeAtMost is at least proto.Size(r): r's exact size without its system
// list of processes, plus a bound for each of those (processAtMost).
func sizeAtMost(r *gpumonv1.Report) int {
	si := r.GetSystemInfo()
	procs := si.GetProcesses()
	if len(procs) == 0 {
		return proto.Size(r)
	}
	si.Processes = nil
	n := proto.Size(r)
	si.Processes = procs
	// system_info's own length prefix grows with the processes: at most
	// the 5 bytes of a 32-bit length more than it was.
	n += protowire.SizeVarint(1 << 32)
	for _, p := range procs {
		b := processAtMost(p)
		n += 1 + protowire.SizeVarint(uint64(b)) + b // field 11: one tag byte
	}
	return n
}

// processAtMost is at least proto.Size(p), from its strings' and lists'
// lengths alone: every other field at its longest encoding (TestProcessAtMost
// holds it to proto.Size for every field at its longest, a field added
// to Process included).
func processAtMost(p *gpumonv1.Process) int {
	if p == nil {
		return 0 // encoded as an empty message
	}
	const (
		tag    = 2  // field numbers up to 2047
		length = 5  // a 32-bit length
		scalar = 10 // a varint or a fixed64 at its longest
		str    = tag + length
		fixed  = 12 * (tag + scalar) // pid, the figures, create_time, flags, optional numbers: 10 of them, and room for 2 more
	)
	n := fixed + 6*str + len(p.Name) + len(p.Cmdline) + len(p.Status) + len(p.Username) + len(p.ContainerId) + len(p.GpuUsageType)
	n += str + len(p.GpuIds)*(tag+scalar) // packed or not
	if s := p.Session; s != nil {
		n += str + 3*str + len(s.Kind) + len(s.Name) + len(s.User) + len(s.ProtoReflect().GetUnknown())
	}
	return n + len(p.ProtoReflect().GetUnknown())
}

// note is the process collector's message saying that kept of total
// processes are listed, and why.
func note(r *gpumonv1.Report, kept, total int, why []string) string {
	msg := fmt.Sprintf("%d of %d processes listed (the hub takes %s per report): those using a GPU and the busiest others",
		kept, total, strings.Join(why, " and "))
	if c := collector(r); c != nil && c.Message != "" {
		msg = c.Message + "; " + msg
	}
	return msg
}

func collector(r *gpumonv1.Report) *gpumonv1.CollectorStatus {
	for _, c := range r.GetCollectors() {
		if c.GetName() == Collector {
			return c
		}
	}
	return nil
}

func setNote(r *gpumonv1.Report, msg string) {
	if c := collector(r); c != nil {
		c.Message = msg
		return
	}
	r.Collectors = append(r.Collectors, &gpumonv1.CollectorStatus{Name: Collector, State: gpumonv1.CollectorState_COLLECTOR_STATE_OK, Message: msg})
}
