package wirejson_test

import (
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/gpumon/gpumon/common/wirejson"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// python_collector.json is what the original collector posts: json.dumps
// spacing and \u escapes, a naive isoformat() timestamp, Docker's "[0 1]",
// nulls, floats for integers and fields the API does not know.
func TestLenientPythonCollector(t *testing.T) {
	data, err := os.ReadFile("testdata/python_collector.json")
	if err != nil {
		t.Fatal(err)
	}
	shanghai := time.FixedZone("CST", 8*3600)
	var r gpumonv1.Report
	if err := (wirejson.Lenient{Location: shanghai}).Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if r.GetHostname() != "lab-gpu-03" {
		t.Errorf("hostname = %q", r.GetHostname())
	}
	want := time.Date(2026, 11, 29, 2, 7, 37, 542655000, shanghai)
	if got := r.GetTimestamp().AsTime(); !got.Equal(want) {
		t.Errorf("timestamp = %v, want %v (naive time read in the given zone)", got, want)
	}
	if n := len(r.GetGpuData()); n != 2 {
		t.Fatalf("got %d GPUs, want 2", n)
	}
	g0, g1 := r.GetGpuData()[0], r.GetGpuData()[1]
	if g0.GetMemoryUsed() != 20480 || g0.GetTemperature() != 45 || g0.GetUtilization() != 88 {
		t.Errorf("GPU 0 = %v", g0)
	}
	if g1.Temperature != nil || g1.Utilization != nil {
		t.Errorf("GPU 1: null temperature/utilization must stay unset, got %v / %v", g1.Temperature, g1.Utilization)
	}
	p := g0.GetProcesses()[0]
	if p.GetCmdline() != "python3 train.py --name 实验-v2" || p.GetGpuId() != 0 || p.GpuId == nil || !p.GetIsGpuProcess() {
		t.Errorf("GPU process = %v", p)
	}
	sys := r.GetSystemInfo()
	if sys.GetMemoryTotal() != 134987833344 || sys.GetIpAddress() != "192.168.1.23" {
		t.Errorf("system = %v", sys)
	}
	if s := sys.GetScreenSessions()[0]; s.GetName() != "train.v2" || s.GetPid() != "4411" {
		t.Errorf("screen session = %v", s)
	}
	c := sys.GetDockerContainers()[0]
	if c.GetGpuDevices() != "[0,1]" || !slices.Equal(c.GetGpuIds(), []int32{0, 1}) || c.GetMemoryUsage() != 1073741824 {
		t.Errorf("container = %v", c)
	}
	if np := sys.GetProcesses()[1]; np.GpuId != nil || np.GetIsGpuProcess() {
		t.Errorf("non-GPU process: gpu_id must stay unset, got %v", np)
	}
}

func TestLenientRejects(t *testing.T) {
	tests := []struct {
		name, body string
		notObject  bool
	}{
		{"not JSON", `hostname=a`, false},
		{"truncated", `{"hostname": "a"`, false},
		{"trailing data", `{"hostname": "a"} {}`, false},
		{"array", `[{"hostname": "a"}]`, true},
		{"string", `"a"`, true},
		{"null", `null`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r gpumonv1.Report
			err := (wirejson.Lenient{}).Unmarshal([]byte(tt.body), &r)
			if err == nil {
				t.Fatal("accepted")
			}
			if errors.Is(err, wirejson.ErrNotObject) != tt.notObject {
				t.Errorf("error %v: ErrNotObject = %v, want %v", err, !tt.notObject, tt.notObject)
			}
		})
	}
}

func TestLenientValues(t *testing.T) {
	tests := []struct {
		name, body string
		check      func(*gpumonv1.Report) bool
	}{
		{"numeric hostname is not a hostname", `{"hostname": 123}`,
			func(r *gpumonv1.Report) bool { return r.GetHostname() == "" }},
		{"numeric string elsewhere is kept", `{"machine_id": 123}`,
			func(r *gpumonv1.Report) bool { return r.GetMachineId() == "123" }},
		{"RFC 3339 timestamp", `{"timestamp": "2026-11-29T02:07:37+08:00"}`,
			func(r *gpumonv1.Report) bool {
				return r.GetTimestamp().AsTime().Equal(time.Date(2026, 11, 28, 18, 7, 37, 0, time.UTC))
			}},
		{"epoch timestamp", `{"timestamp": 1764381600.5}`,
			func(r *gpumonv1.Report) bool { return r.GetTimestamp().AsTime().Equal(time.Unix(1764381600, 5e8)) }},
		{"space-separated naive timestamp", `{"timestamp": "2026-11-29 02:07:37"}`,
			func(r *gpumonv1.Report) bool {
				return r.GetTimestamp().AsTime().Equal(time.Date(2026, 11, 29, 2, 7, 37, 0, time.UTC))
			}},
		{"unparsable timestamp left unset", `{"timestamp": "yesterday"}`,
			func(r *gpumonv1.Report) bool { return r.Timestamp == nil }},
		{"gpuDevices as a list", `{"system_info": {"docker_containers": [{"gpuDevices": [2, "3"]}]}}`,
			func(r *gpumonv1.Report) bool {
				return r.GetSystemInfo().GetDockerContainers()[0].GetGpuDevices() == "[2,3]"
			}},
		{"gpuDevices free text kept", `{"system_info": {"docker_containers": [{"gpuDevices": "all"}]}}`,
			func(r *gpumonv1.Report) bool {
				return r.GetSystemInfo().GetDockerContainers()[0].GetGpuDevices() == "all"
			}},
		{"numeric strings and percent signs", `{"gpu_data": [{"utilization": "55 %", "temperature": "61"}]}`,
			func(r *gpumonv1.Report) bool {
				return r.GetGpuData()[0].GetUtilization() == 55 && r.GetGpuData()[0].GetTemperature() == 61
			}},
		{"non-numeric text leaves the number unset", `{"gpu_data": [{"temperature": "N/A"}]}`,
			func(r *gpumonv1.Report) bool { return r.GetGpuData()[0].Temperature == nil }},
		{"negative clamps to zero for unsigned", `{"gpu_data": [{"memory_used": -5}]}`,
			func(r *gpumonv1.Report) bool { return r.GetGpuData()[0].GetMemoryUsed() == 0 }},
		{"wrong container type ignored", `{"gpu_data": {"id": 1}, "system_info": [1]}`,
			func(r *gpumonv1.Report) bool { return len(r.GetGpuData()) == 0 && r.SystemInfo == nil }},
		{"lone surrogate repaired", `{"hostname": "a\ud800b"}`,
			func(r *gpumonv1.Report) bool { return r.GetHostname() == "a\ufffdb" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r gpumonv1.Report
			if err := (wirejson.Lenient{Location: time.UTC}).Unmarshal([]byte(tt.body), &r); err != nil {
				t.Fatal(err)
			}
			if !tt.check(&r) {
				t.Errorf("unexpected result: %v", &r)
			}
		})
	}
}

func TestParseGpuDevices(t *testing.T) {
	tests := []struct {
		in   string
		want []int32
		ok   bool
	}{
		{"[0,1]", []int32{0, 1}, true},
		{"[0 1]", []int32{0, 1}, true},
		{"0, 1", []int32{0, 1}, true},
		{"[]", []int32{}, true},
		{"", []int32{}, true},
		{"all", nil, false},
		{"[-1]", nil, false},
	}
	for _, tt := range tests {
		got, ok := wirejson.ParseGpuDevices(tt.in)
		if ok != tt.ok || !slices.Equal(got, tt.want) {
			t.Errorf("ParseGpuDevices(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if s := wirejson.FormatGpuDevices([]int32{0, 1}); s != "[0,1]" {
		t.Errorf("FormatGpuDevices = %q", s)
	}
}

// TestKillPIDsAreExact: a kill request's pids are refused, naming the value,
// unless every one is a whole number in range; nothing is coerced.
func TestKillPIDsAreExact(t *testing.T) {
	tests := []struct {
		body string
		want []int32
		err  string // empty: accepted
	}{
		{`{"hostname":"h","pids":[1785, 2]}`, []int32{1785, 2}, ""},
		{`{"hostname":"h","pids":[2147483647]}`, []int32{2147483647}, ""},
		{`{"hostname":"h"}`, nil, ""},
		{`{"hostname":"h","pids":null}`, nil, ""},
		{`{"hostname":"h","pids":[1785.5]}`, nil, "pids[0] = 1785.5 is not a process id"},
		{`{"hostname":"h","pids":[5, true]}`, nil, "pids[1] = true is not a process id"},
		{`{"hostname":"h","pids":["12"]}`, nil, `pids[0] = "12" is not a process id`},
		{`{"hostname":"h","pids":[4294967295]}`, nil, "pids[0] = 4294967295 is not a process id"},
		{`{"hostname":"h","pids":[0]}`, nil, "pids[0] = 0 is not a process id"},
		{`{"hostname":"h","pids":[-1]}`, nil, "pids[0] = -1 is not a process id"},
		{`{"hostname":"h","pids":[1e3]}`, nil, "pids[0] = 1e3 is not a process id"},
		{`{"hostname":"h","pids":[1785.0]}`, nil, "pids[0] = 1785.0 is not a process id"},
		{`{"hostname":"h","pids":[null]}`, nil, "pids[0] = null is not a process id"},
		{`{"hostname":"h","pids":[[5]]}`, nil, "pids[0] = a list is not a process id"},
		{`{"hostname":"h","pids":5}`, nil, "pids must be a list of process ids, not 5"},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			var req gpumonv1.KillProcessesRequest
			err := (wirejson.Lenient{}).Unmarshal([]byte(tt.body), &req)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.err != "" && (err == nil || err.Error() != tt.err+" (want a whole number from 1 to 2147483647)" && err.Error() != tt.err):
				t.Fatalf("error %v, want %q", err, tt.err)
			case tt.err == "" && !slices.Equal(req.GetPids(), tt.want):
				t.Errorf("pids %v, want %v", req.GetPids(), tt.want)
			}
		})
	}
}
