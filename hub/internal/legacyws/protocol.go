// Package legacyws speaks the original Python collector's websocket protocol
// at /ws, so that machines still running that collector can be stopped from
// gpumon (the page's kill button, POST /api/kill-processes, gpumon kill).
//
// The protocol, as the original collector and server speak it (JSON text
// messages):
//
//	collector → hub  {"type":"register","hostname":"gpu-3"}
//	hub → collector  {"type":"register_response","status":"success"}
//	hub → collector  {"type":"kill_processes","pids":[4242,4243]}
//	collector → hub  {"type":"kill_process_result","status":"success"|"error",
//	                  "message":"...","results":[{"pid":4242,"status":"success","message":"..."}]}
//
// The original messages carry no request id. The collector answers them one
// at a time, in order, so the hub matches each result to the oldest kill
// still waiting for one (a late answer to a kill whose caller gave up is
// matched and dropped). The original server sent no failed register
// response; this one closes the connection with a policy-violation status
// and a reason instead, which the collector meets with its usual 5 s retry
// rather than an immediate reconnect.
package legacyws

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/validate"
)

// Message types of the protocol.
const (
	typeRegister         = "register"
	typeRegisterResponse = "register_response"
	typeKill             = "kill_processes"
	typeKillResult       = "kill_process_result"
)

// maxResultText bounds a status or message the collector sends back.
const maxResultText = 512

// message is any message of the protocol; each type uses some fields.
type message struct {
	Type     string        `json:"type"`
	Hostname any           `json:"hostname,omitempty"`
	Status   string        `json:"status,omitempty"`
	Message  string        `json:"message,omitempty"`
	Results  []resultEntry `json:"results,omitempty"`
}

type resultEntry struct {
	PID     json.RawMessage `json:"pid"`
	Status  any             `json:"status"`
	Message any             `json:"message"`
}

var errNotRegister = errors.New("the first message must be {\"type\":\"register\",\"hostname\":...}")

// parseRegister reads the first message of a connection and returns the
// hostname it registers.
func parseRegister(data []byte) (string, error) {
	var m message
	if err := json.Unmarshal(data, &m); err != nil || m.Type != typeRegister {
		return "", errNotRegister
	}
	host, ok := m.Hostname.(string)
	if !ok {
		return "", fmt.Errorf("register: %w", validate.ErrHostname)
	}
	if err := validate.Hostname(host); err != nil {
		return "", fmt.Errorf("register: %w", err)
	}
	return host, nil
}

func registerResponse() []byte {
	return []byte(`{"type":"` + typeRegisterResponse + `","status":"success"}`)
}

func killMessage(pids []int32) []byte {
	b := []byte(`{"type":"` + typeKill + `","pids":[`)
	for i, pid := range pids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(pid), 10)
	}
	return append(b, "]}"...)
}

// parseKillResult reads a kill_process_result; ok is false for any other
// message (the collector sends nothing else after registering).
func parseKillResult(data []byte) (message, bool) {
	var m message
	if err := json.Unmarshal(data, &m); err != nil || m.Type != typeKillResult {
		return message{}, false
	}
	return m, true
}

// kill is a kill command on its way to the collector: the PIDs it is sent,
// and the answers the hub gave itself for the others.
type kill struct {
	id      string
	pids    []int32 // in the order asked
	sent    []int32
	refused map[int32]string
}

// planKill decides which PIDs go to the collector. The original collector
// signals whatever it is sent, so the hub applies the agent's rules for it:
// never PID 1 or below, and only PIDs the machine's latest report lists as
// GPU processes.
func planKill(id string, pids []int32, report *gpumonv1.Report, host string) *kill {
	gpu := gpuPIDs(report)
	k := &kill{id: id, pids: pids, refused: map[int32]string{}}
	for _, pid := range pids {
		switch {
		case pid <= 1:
			k.refused[pid] = fmt.Sprintf("PID %d is never signalled", pid)
		case !gpu[pid]:
			k.refused[pid] = fmt.Sprintf("PID %d is not a GPU process in %s's latest report", pid, host)
		default:
			k.sent = append(k.sent, pid)
		}
	}
	return k
}

func gpuPIDs(r *gpumonv1.Report) map[int32]bool {
	out := map[int32]bool{}
	for _, g := range r.GetGpuData() {
		for _, p := range g.GetProcesses() {
			out[p.GetPid()] = true
		}
	}
	for _, p := range r.GetSystemInfo().GetProcesses() {
		if p.GetIsGpuProcess() {
			out[p.GetPid()] = true
		}
	}
	return out
}

// result is the answer to k: the hub's refusals and the collector's results
// (m; nil when nothing was sent), one per PID in the order asked.
func (k *kill) result(m *message) *gpumonv1.CommandResult {
	answered := map[int32]resultEntry{}
	if m != nil {
		for _, r := range m.Results {
			if pid, err := strconv.ParseInt(string(r.PID), 10, 32); err == nil {
				if _, dup := answered[int32(pid)]; !dup {
					answered[int32(pid)] = r
				}
			}
		}
	}
	res := &gpumonv1.CommandResult{RequestId: k.id, Ok: true}
	for _, pid := range k.pids {
		kr := &gpumonv1.KillResult{Pid: pid, Status: "error"}
		if why, ok := k.refused[pid]; ok {
			kr.Message = why
		} else if r, ok := answered[pid]; ok {
			if text(r.Status) == "success" {
				kr.Status = "success"
			}
			kr.Message = text(r.Message)
		} else {
			kr.Message = "the collector did not answer for this PID"
		}
		res.Ok = res.Ok && kr.Status == "success"
		res.KillResults = append(res.KillResults, kr)
	}
	if m != nil {
		res.Message = clean(m.Message)
	}
	return res
}

// text is a JSON string the collector sent, cleaned; "" for anything else.
func text(v any) string {
	s, _ := v.(string)
	return clean(s)
}

func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= maxResultText {
		return s
	}
	n := maxResultText
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
