package validate

import (
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// FuzzReport: any snapshot an agent can put on the wire is either refused
// or comes out within every limit, with valid UTF-8, and never panics.
func FuzzReport(f *testing.F) {
	seed := &gpumonv1.Report{
		Hostname: "gpu-01",
		GpuData:  []*gpumonv1.Gpu{{Id: 0, Name: "H100", Processes: []*gpumonv1.Process{{Pid: 1, Cmdline: "python train.py"}}}},
		SystemInfo: &gpumonv1.SystemInfo{
			Processes:        []*gpumonv1.Process{{Pid: 2, Name: "bash", Session: &gpumonv1.SessionRef{Kind: "screen", Name: "a.b"}}},
			DockerContainers: []*gpumonv1.DockerContainer{{Id: "abc", GpuDevices: "[0]"}},
			ScreenSessions:   []*gpumonv1.TerminalSession{{Pid: "3", Name: "train.v2"}},
		},
	}
	b, _ := proto.Marshal(seed)
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		var r gpumonv1.Report
		if proto.Unmarshal(data, &r) != nil {
			return
		}
		if Report(&r) != nil {
			return
		}
		if Hostname(r.GetHostname()) != nil {
			t.Fatalf("accepted hostname %q", r.GetHostname())
		}
		if len(r.GetGpuData()) > MaxGPUs || len(r.GetSystemInfo().GetProcesses()) > MaxProcesses ||
			len(r.GetSystemInfo().GetDockerContainers()) > MaxContainers {
			t.Fatal("a list exceeds its limit")
		}
		for _, p := range r.GetSystemInfo().GetProcesses() {
			if len(p.GetCmdline()) > MaxCmdlineLen || !utf8.ValidString(p.GetCmdline()) || !utf8.ValidString(p.GetName()) {
				t.Fatalf("process strings not cleaned: %q %q", p.GetName(), p.GetCmdline())
			}
		}
		if _, err := proto.Marshal(&r); err != nil {
			t.Fatalf("cleaned report does not encode: %v", err)
		}
	})
}
