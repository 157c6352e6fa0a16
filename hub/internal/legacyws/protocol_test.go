package legacyws

import (
	"errors"
	"strings"
	"testing"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
	"github.com/gpumon/gpumon/hub/internal/validate"
)

func TestParseRegister(t *testing.T) {
	tests := []struct {
		in, host string
		err      error
	}{
		{`{"type":"register","hostname":"gpu-3"}`, "gpu-3", nil},
		{`{"type": "register", "hostname": "lab.gpu_03", "extra": 1}`, "lab.gpu_03", nil},
		{`{"type":"kill_process_result","hostname":"gpu-3"}`, "", errNotRegister},
		{`{"hostname":"gpu-3"}`, "", errNotRegister},
		{`register gpu-3`, "", errNotRegister},
		{`["register","gpu-3"]`, "", errNotRegister},
		{`{"type":"register"}`, "", validate.ErrHostname},
		{`{"type":"register","hostname":42}`, "", validate.ErrHostname},
		{`{"type":"register","hostname":""}`, "", validate.ErrHostname},
		{`{"type":"register","hostname":"a b"}`, "", validate.ErrHostname},
		{`{"type":"register","hostname":"` + strings.Repeat("x", 300) + `"}`, "", validate.ErrHostname},
	}
	for _, tc := range tests {
		host, err := parseRegister([]byte(tc.in))
		if host != tc.host || !errors.Is(err, tc.err) {
			t.Errorf("parseRegister(%.60s) = %q, %v; want %q, %v", tc.in, host, err, tc.host, tc.err)
		}
	}
}

func TestKillMessage(t *testing.T) {
	if got := string(killMessage([]int32{4242, 7})); got != `{"type":"kill_processes","pids":[4242,7]}` {
		t.Errorf("killMessage = %s", got)
	}
}

// gpuReport lists pid 100 on a GPU and pid 200 as a GPU process in the
// system list (the original collector fills both), pid 300 as a CPU process.
func gpuReport() *gpumonv1.Report {
	return &gpumonv1.Report{
		GpuData: []*gpumonv1.Gpu{{Processes: []*gpumonv1.Process{{Pid: 100, IsGpuProcess: true}}}},
		SystemInfo: &gpumonv1.SystemInfo{Processes: []*gpumonv1.Process{
			{Pid: 100, IsGpuProcess: true}, {Pid: 200, IsGpuProcess: true}, {Pid: 300}, {Pid: 1}}},
	}
}

func TestPlanKill(t *testing.T) {
	tests := []struct {
		name    string
		pids    []int32
		report  *gpumonv1.Report
		sent    []int32
		refused map[int32]string
	}{
		{"GPU processes go to the collector", []int32{100, 200}, gpuReport(), []int32{100, 200}, nil},
		{"a CPU process is refused", []int32{300, 100}, gpuReport(), []int32{100}, map[int32]string{300: "not a GPU process"}},
		{"PID 1 and below never", []int32{1, 0, -4}, gpuReport(), nil, map[int32]string{1: "never", 0: "never", -4: "never"}},
		{"an unreported PID", []int32{999}, gpuReport(), nil, map[int32]string{999: "latest report"}},
		{"no report yet", []int32{100}, nil, nil, map[int32]string{100: "not a GPU process"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := planKill("7", tc.pids, tc.report, "old")
			if !equalPIDs(k.sent, tc.sent) {
				t.Errorf("sent %v, want %v", k.sent, tc.sent)
			}
			if len(k.refused) != len(tc.refused) {
				t.Errorf("refused %v, want %v", k.refused, tc.refused)
			}
			for pid, want := range tc.refused {
				if !strings.Contains(k.refused[pid], want) {
					t.Errorf("PID %d refused with %q, want it to say %q", pid, k.refused[pid], want)
				}
			}
		})
	}
}

func equalPIDs(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestKillResult(t *testing.T) {
	k := planKill("9", []int32{300, 100, 200, 201}, gpuReport(), "old")
	k.pids = append(k.pids, 202) // asked, sent, never answered
	k.sent = append(k.sent, 202)
	m, ok := parseKillResult([]byte(`{"type":"kill_process_result","status":"success","message":"成功终止 1/2 个进程",
		"results":[{"pid":100,"status":"success","message":"进程 100 已终止"},
		           {"pid":100,"status":"error","message":"a second answer is ignored"},
		           {"pid":200,"status":"error","message":"没有权限终止进程 200"},
		           {"pid":"202","status":"success","message":"a string pid matches nothing"},
		           {"pid":4.5,"status":"success"},
		           {"pid":202,"status":{"x":1},"message":"` + strings.Repeat("长", 400) + `"}]}`))
	if !ok {
		t.Fatal("a kill_process_result was not read")
	}
	res := k.result(&m)
	want := []struct {
		pid    int32
		status string
		msg    string
	}{
		{300, "error", "not a GPU process"},
		{100, "success", "进程 100 已终止"},
		{200, "error", "没有权限"},
		{201, "error", "not a GPU process"},
		{202, "error", "长"},
	}
	if res.GetRequestId() != "9" || res.GetOk() || len(res.GetKillResults()) != len(want) {
		t.Fatalf("result %v", res)
	}
	for i, w := range want {
		got := res.GetKillResults()[i]
		if got.GetPid() != w.pid || got.GetStatus() != w.status || !strings.Contains(got.GetMessage(), w.msg) {
			t.Errorf("result %d = %v, want pid %d %s with %q", i, got, w.pid, w.status, w.msg)
		}
		if len(got.GetMessage()) > maxResultText {
			t.Errorf("result %d: message of %d bytes kept", i, len(got.GetMessage()))
		}
	}
	if res.GetMessage() != "成功终止 1/2 个进程" {
		t.Errorf("message %q", res.GetMessage())
	}

	if _, ok := parseKillResult([]byte(`{"type":"register","hostname":"x"}`)); ok {
		t.Error("a register message was read as a kill result")
	}
	all := planKill("3", []int32{100}, gpuReport(), "old")
	m, _ = parseKillResult([]byte(`{"type":"kill_process_result","results":[{"pid":100,"status":"success"}]}`))
	if res := all.result(&m); !res.GetOk() {
		t.Errorf("every PID signalled, but ok is false: %v", res)
	}
	if res := planKill("4", []int32{300}, gpuReport(), "old").result(nil); res.GetOk() || res.GetKillResults()[0].GetStatus() != "error" {
		t.Errorf("a kill refused by the hub: %v", res)
	}
}
