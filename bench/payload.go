package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
)

// The benchmark payload: one machine's report in the documented shape (the
// original collector's JSON, Python's json.dumps spacing), 8 GPUs and 300
// processes of which 12 use a GPU — the size of loadgen's dgxh100 machines.
const (
	payloadGPUs      = 8
	payloadProcesses = 300
	payloadGPUProcs  = 12
	hostPlaceholder  = "@@HOSTNAME@@"
)

// kv is one JSON member; an object is a list of them, in order.
type kv struct {
	k string
	v any
}

type object []kv

// writeJSON writes v the way Python's json.dumps does (", " and ": ").
func writeJSON(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case object:
		b.WriteByte('{')
		for i, m := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJSON(b, m.k)
			b.WriteString(": ")
			writeJSON(b, m.v)
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJSON(b, e)
		}
		b.WriteByte(']')
	default:
		data, _ := json.Marshal(x)
		b.Write(data)
	}
}

// payloadTemplate returns the report with hostPlaceholder as the hostname.
func payloadTemplate() []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	users := []string{"alice", "bob", "carol", "dave", "root"}
	procs := make([]object, payloadProcesses)
	for i := range procs {
		u := users[rng.IntN(len(users))]
		gpu := any(nil)
		gpuMem := 0
		if i < payloadGPUProcs {
			gpu, gpuMem = i%payloadGPUs, 20000
		}
		procs[i] = object{
			{"pid", 1000 + i*7}, {"name", "python"},
			{"cmdline", fmt.Sprintf("python train.py --config configs/exp-%03d.yaml --lr 3e-4 --batch-size 64 --output /data/%s/runs/%d", i, u, i)},
			{"cpu_percent", float64(rng.IntN(10000)) / 100}, {"memory_percent", float64(rng.IntN(1000)) / 1000},
			{"create_time", 1764300000.25 + float64(i)}, {"status", "sleeping"}, {"username", u},
			{"is_gpu_process", i < payloadGPUProcs}, {"gpu_memory_usage", gpuMem}, {"gpu_id", gpu},
		}
	}
	gpus := make([]any, payloadGPUs)
	for g := range gpus {
		var gp []any
		for i := g; i < payloadGPUProcs; i += payloadGPUs {
			gp = append(gp, procs[i])
		}
		if gp == nil {
			gp = []any{}
		}
		util := 0
		if len(gp) > 0 {
			util = 60 + rng.IntN(40)
		}
		gpus[g] = object{
			{"id", g}, {"name", "NVIDIA H100 80GB HBM3"}, {"temperature", 35 + util/3},
			{"memory_used", 20000 * len(gp)}, {"memory_total", 81559}, {"utilization", util}, {"processes", gp},
		}
	}
	all := make([]any, len(procs))
	for i, p := range procs {
		all[i] = p
	}
	report := object{
		{"hostname", hostPlaceholder}, {"timestamp", "2026-11-29T02:07:37.542655"},
		{"gpu_data", gpus},
		{"system_info", object{
			{"cpu_percent", 42.5}, {"memory_total", 2199023255552}, {"memory_used", 549755813888}, {"memory_percent", 25.0},
			{"disk_total", 4398046511104}, {"disk_used", 1099511627776}, {"disk_percent", 25.0}, {"ip_address", "10.0.3.17"},
			{"screen_sessions", []any{object{{"pid", "4242"}, {"name", "train.v2"}, {"status", "Detached"}}}},
			{"docker_containers", []any{object{{"id", "3f2a9c1b7d4e"}, {"name", "jupyter"}, {"status", "Up 2 hours"},
				{"image", "pytorch/pytorch:2.3"}, {"memoryUsage", 8589934592}, {"gpuDevices", "[0,1]"}}}},
			{"processes", all},
		}},
	}
	var b bytes.Buffer
	writeJSON(&b, report)
	return b.Bytes()
}

// payloads returns the report for n hostnames prefix-0001 … prefix-n.
func payloads(prefix string, n int) [][]byte {
	tmpl := payloadTemplate()
	out := make([][]byte, n)
	for i := range out {
		out[i] = bytes.Replace(tmpl, []byte(hostPlaceholder), []byte(hostname(prefix, i)), 1)
	}
	return out
}

func hostname(prefix string, i int) string { return fmt.Sprintf("%s-%04d", prefix, i+1) }

// payloadSummary says what one payload holds.
func payloadSummary() string {
	n := len(bytes.Replace(payloadTemplate(), []byte(hostPlaceholder), []byte(hostname("bench", 0)), 1))
	return fmt.Sprintf("%d GPUs, %d processes (%d on GPUs), %s of JSON", payloadGPUs, payloadProcesses, payloadGPUProcs, strings.TrimSpace(fmtBytes(float64(n))))
}
