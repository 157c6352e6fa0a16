package wirejson_test

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gpumon/gpumon/common/jsontest"
	"github.com/gpumon/gpumon/common/wirejson"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

var update = flag.Bool("update", false, "rewrite golden files")

// The documented report, parsed and rendered again, keeps every field with
// the same JSON type and value: numbers stay numbers, names stay as documented.
func TestDocumentedReportRoundTrip(t *testing.T) {
	fixture, err := os.ReadFile("testdata/documented_report.json")
	if err != nil {
		t.Fatal(err)
	}
	var r gpumonv1.Report
	if err := (wirejson.Lenient{Location: time.UTC}).Unmarshal(fixture, &r); err != nil {
		t.Fatal(err)
	}
	out := wirejson.Marshal(&r)
	jsontest.AssertSubset(t, jsontest.Decode(t, fixture), jsontest.Decode(t, out))
	jsontest.Golden(t, "testdata/documented_report.rendered.golden.json", out, *update)
}

// A report built in Go renders with the documented names and types.
func TestRenderedTypes(t *testing.T) {
	r := &gpumonv1.Report{
		Hostname:  "h",
		Timestamp: timestamppb.New(time.Date(2026, 11, 29, 2, 7, 37, 542655000, time.UTC)),
		GpuData: []*gpumonv1.Gpu{{
			Id: 3, Name: "GPU", Temperature: proto.Uint32(70), MemoryUsed: 1024, MemoryTotal: 81920,
			Processes: []*gpumonv1.Process{{Pid: 7, GpuId: proto.Int32(3), CreateTime: 1764381600.5}},
		}},
		SystemInfo: &gpumonv1.SystemInfo{
			MemoryTotal:      270157156352,
			DockerContainers: []*gpumonv1.DockerContainer{{Id: "abc", MemoryUsage: 8589934592, GpuDevices: "[3]"}},
			Processes:        []*gpumonv1.Process{{Pid: 1}},
		},
	}
	got := jsontest.Decode(t, wirejson.Marshal(r))
	want := jsontest.Decode(t, []byte(`{
		"hostname": "h", "timestamp": "2026-11-29T02:07:37.542655Z",
		"gpu_data": [{"id": 3, "name": "GPU", "temperature": 70, "utilization": null,
			"memory_used": 1024, "memory_total": 81920,
			"processes": [{"pid": 7, "gpu_id": 3, "create_time": 1764381600.5, "is_gpu_process": false}]}],
		"system_info": {"memory_total": 270157156352,
			"docker_containers": [{"id": "abc", "memoryUsage": 8589934592, "gpuDevices": "[3]"}],
			"processes": [{"pid": 1, "gpu_id": null}]},
		"is_online": false
	}`))
	jsontest.AssertSubset(t, want, got)
}

func TestNumbersAndStrings(t *testing.T) {
	tests := []struct {
		name string
		msg  proto.Message
		want string
	}{
		{"uint64 is a number", &gpumonv1.Ack{Seq: 1 << 40}, `{"seq":1099511627776}`},
		{"NaN is null", &gpumonv1.Point{Time: 1, Value: math.NaN()}, `{"time":1,"value":null}`},
		{"infinity is null", &gpumonv1.Point{Time: 1, Value: math.Inf(1)}, `{"time":1,"value":null}`},
		{"small float", &gpumonv1.Point{Time: 1e-7, Value: 0.5}, `{"time":1e-7,"value":0.5}`},
		{"large float", &gpumonv1.Point{Time: 1e21, Value: 123456789012}, `{"time":1e+21,"value":123456789012}`},
		{"escapes", &gpumonv1.SessionRef{Kind: "a\"b\\c\n", Name: "<img src=x>&", User: "\x01\xff"},
			`{"kind":"a\"b\\c\n","name":"\u003cimg src=x\u003e\u0026","user":"\u0001\ufffd"}`},
		{"unicode kept", &gpumonv1.SessionRef{Name: "实验.v2"}, `{"kind":"","name":"实验.v2","user":""}`},
		{"enum by name", &gpumonv1.CollectorStatus{Name: "gpu", State: gpumonv1.CollectorState_COLLECTOR_STATE_OK},
			`{"name":"gpu","state":"COLLECTOR_STATE_OK","message":"","duration_seconds":0}`},
		{"duration", &gpumonv1.SetIntervalCommand{Interval: durationpb.New(1500 * time.Millisecond)}, `{"interval":"1.5s"}`},
		{"unset message is null", &gpumonv1.SetIntervalCommand{}, `{"interval":null}`},
		{"oneof: only the set member", &gpumonv1.ConnectResponse{Msg: &gpumonv1.ConnectResponse_Ack{Ack: &gpumonv1.Ack{Seq: 2}}},
			`{"ack":{"seq":2}}`},
		{"map keys sorted", &gpumonv1.Series{Labels: map[string]string{"b": "2", "a": "1"}},
			`{"metric":"","labels":{"a":"1","b":"2"},"points":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(wirejson.Marshal(tt.msg))
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("output is not valid JSON: %s", got)
			}
		})
	}
}

// The documented form keeps every documented field (null included) and
// leaves out other fields while they hold no value.
func TestDocumentedForm(t *testing.T) {
	fixture, err := os.ReadFile("testdata/documented_report.json")
	if err != nil {
		t.Fatal(err)
	}
	var r gpumonv1.Report
	if err := (wirejson.Lenient{Location: time.UTC}).Unmarshal(fixture, &r); err != nil {
		t.Fatal(err)
	}
	out := wirejson.AppendDocumented(nil, &r)
	jsontest.AssertSubset(t, jsontest.Decode(t, fixture), jsontest.Decode(t, out))

	r2 := &gpumonv1.Report{
		Hostname: "h",
		GpuData:  []*gpumonv1.Gpu{{Id: 1, Uuid: "GPU-1", Processes: []*gpumonv1.Process{{Pid: 7, Rss: 1024}}}},
		SystemInfo: &gpumonv1.SystemInfo{
			ScreenSessions: []*gpumonv1.TerminalSession{{Pid: "1", Name: "s"}},
		},
	}
	got := string(wirejson.AppendDocumented(nil, r2))
	want := `{"hostname":"h","timestamp":null,"gpu_data":[{"id":1,"name":"","temperature":null,"memory_used":0,"memory_total":0,"utilization":null,` +
		`"processes":[{"pid":7,"name":"","cmdline":"","cpu_percent":0,"memory_percent":0,"create_time":0,"status":"","username":"",` +
		`"is_gpu_process":false,"gpu_memory_usage":0,"gpu_id":null,"rss":1024}],"uuid":"GPU-1"}],` +
		`"system_info":{"cpu_percent":0,"memory_total":0,"memory_used":0,"memory_percent":0,"disk_total":0,"disk_used":0,"disk_percent":0,` +
		`"ip_address":"","screen_sessions":[{"pid":"1","name":"s","status":""}],"docker_containers":[],"processes":[]},"is_online":false}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// The full form is unchanged: every field, nulls included.
	if full := string(wirejson.Marshal(r2)); !strings.Contains(full, `"session":null`) || !strings.Contains(full, `"memory_free":null`) {
		t.Errorf("full form lost fields: %s", full)
	}
}
