package sim

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"time"
)

// Kind is what a simulated job does.
type Kind uint8

const (
	// KindTrain is a training run on one GPU (python train.py) in a
	// screen session: high, steady load.
	KindTrain Kind = iota + 1
	// KindFinetune is a torchrun job on 2 or 4 GPUs in a tmux session: a
	// launcher and one process per GPU.
	KindFinetune
	// KindNotebook is a Jupyter kernel that loaded a model and sits idle:
	// memory held at 0 % utilisation, what the idle detector is for.
	KindNotebook
	// KindServe is an inference server in a screen session: bursty,
	// moderate load, video decode.
	KindServe
	// KindEval is a short evaluation run.
	KindEval
	// KindDisplay is a workstation's X server on GPU 0 (graphics only).
	KindDisplay
)

var kindNames = map[Kind]string{
	KindTrain: "train", KindFinetune: "finetune", KindNotebook: "notebook",
	KindServe: "serve", KindEval: "eval", KindDisplay: "display",
}

func (k Kind) String() string { return kindNames[k] }

// kindSpec is how a kind of job behaves.
type kindSpec struct {
	weight         float64
	minDur, maxDur time.Duration
	// level is the range of mean utilisation (percent), mem the range of
	// the share of the card's memory the job grows to.
	level, mem [2]float64
}

var kinds = map[Kind]kindSpec{
	KindTrain:    {0.35, 15 * time.Minute, 2 * time.Hour, [2]float64{75, 99}, [2]float64{0.45, 0.95}},
	KindFinetune: {0.15, 25 * time.Minute, 150 * time.Minute, [2]float64{80, 98}, [2]float64{0.6, 0.92}},
	KindNotebook: {0.2, 35 * time.Minute, 3 * time.Hour, [2]float64{0, 0}, [2]float64{0.1, 0.4}},
	KindServe:    {0.15, 30 * time.Minute, 4 * time.Hour, [2]float64{15, 55}, [2]float64{0.2, 0.6}},
	KindEval:     {0.15, 3 * time.Minute, 12 * time.Minute, [2]float64{50, 90}, [2]float64{0.3, 0.7}},
}

// pickKind maps u in [0, 1) to a job kind by the kinds' weights.
func pickKind(u float64) Kind {
	for _, k := range []Kind{KindTrain, KindFinetune, KindNotebook, KindServe} {
		if u < kinds[k].weight {
			return k
		}
		u -= kinds[k].weight
	}
	return KindEval
}

// Session is the terminal session a job runs in.
type Session struct {
	// Kind is "screen", "tmux" or "" (none).
	Kind, Name string
}

// Proc is one process of a job.
type Proc struct {
	// Exe is the program name the process runs as (its /proc comm).
	Exe  string
	Argv []string
	// GPU is the GPU the process computes on, or -1 (a launcher).
	GPU int
	// Parent is the index of the process that starts this one, or -1 for
	// the job's first process.
	Parent int
}

// Job is one simulated job.
type Job struct {
	ID   int
	Kind Kind
	GPUs []int
	// Start and End are when the job runs; End moves earlier when the job
	// is ended early.
	Start, End time.Time
	// Live is when its processes were all running (live schedules only).
	Live time.Time
	// Level is the mean utilisation in percent, MemFrac the share of the
	// card's memory the job grows to.
	Level, MemFrac float64
	User           string
	Session        Session
	Procs          []Proc
	// PIDs holds one PID per process (Procs order), 0 where unknown.
	PIDs []uint32

	launched, ended bool
}

// runningAt reports whether the job holds its GPUs at t.
func (j *Job) runningAt(t time.Time) bool { return !t.Before(j.Start) && t.Before(j.End) }

// visibleAt reports whether the job shows at t: it runs, and on a live
// schedule its processes have started (from then on it counts as running
// since its start, so a job that was under way when the agent started
// comes with the heat of the last minutes).
func (j *Job) visibleAt(t time.Time, live bool) bool {
	return j.runningAt(t) && (!live || !j.Live.IsZero())
}

// PID returns the PID of the process computing on GPU g, or 0.
func (j *Job) PID(g int) uint32 {
	for i, p := range j.Procs {
		if p.GPU == g && i < len(j.PIDs) {
			return j.PIDs[i]
		}
	}
	return 0
}

var models = []struct{ name, short, hub string }{
	{"llama-7b", "llama", "meta-llama/Llama-3.1-8B-Instruct"},
	{"llama-13b", "llama", "meta-llama/Llama-2-13b-chat-hf"},
	{"mistral-7b", "mistral", "mistralai/Mistral-7B-Instruct-v0.3"},
	{"qwen2-7b", "qwen", "Qwen/Qwen2.5-7B-Instruct"},
	{"gpt2-xl", "gpt2", "openai-community/gpt2-xl"},
	{"vit-large", "vit", "google/vit-large-patch16-224"},
}

var xorgArgv = []string{"/usr/lib/xorg/Xorg", "vt1", "-displayfd", "3", "-auth", "/run/user/1000/gdm/Xauthority", "-nolisten", "tcp"}

// newJob draws a job of kind on gpus from t: its length, load, owner and
// command lines.
func newJob(id int, kind Kind, gpus []int, t time.Time, rng *rand.Rand, users []string, home func(string) string) *Job {
	ks := kinds[kind]
	dur := ks.minDur + time.Duration(rng.Float64()*float64(ks.maxDur-ks.minDur))
	j := &Job{
		ID: id, Kind: kind, GPUs: gpus, Start: t, End: t.Add(dur),
		Level:   ks.level[0] + rng.Float64()*(ks.level[1]-ks.level[0]),
		MemFrac: ks.mem[0] + rng.Float64()*(ks.mem[1]-ks.mem[0]),
	}
	if len(users) > 0 {
		j.User = users[rng.IntN(len(users))]
	}
	m := models[rng.IntN(len(models))]
	run := fmt.Sprintf("runs/%s-%03d", m.name, id)
	python := func(args ...string) Proc {
		return Proc{Exe: "python", Argv: append([]string{"python"}, args...), GPU: gpus[0], Parent: -1}
	}
	switch kind {
	case KindTrain:
		batch := strconv.Itoa(16 << rng.IntN(4))
		j.Procs = []Proc{python("train.py", "--model", m.name, "--batch-size", batch, "--lr", "3e-4", "--output", run)}
		j.Session = Session{"screen", "train-" + m.short}
	case KindFinetune:
		args := []string{"finetune.py", "--model", m.name, "--lora-rank", "16", "--output", "runs/ft-" + m.name + "-" + fmt.Sprintf("%03d", id)}
		j.Procs = []Proc{{Exe: "torchrun", Argv: append([]string{"torchrun", "--nproc_per_node=" + strconv.Itoa(len(gpus))}, args...), GPU: -1, Parent: -1}}
		for _, g := range gpus {
			j.Procs = append(j.Procs, Proc{Exe: "python3", Argv: append([]string{"/usr/bin/python3", "-u"}, args...), GPU: g, Parent: 0})
		}
		j.Session = Session{"tmux", "ft-" + m.short}
	case KindNotebook:
		kernel := fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", rng.Uint32(), rng.Uint32()&0xffff, rng.Uint32()&0xfff, rng.Uint32()&0xfff, rng.Uint64()&0xffffffffffff)
		j.Procs = []Proc{python("-m", "ipykernel_launcher", "-f", home(j.User)+"/.local/share/jupyter/runtime/kernel-"+kernel+".json")}
	case KindServe:
		j.Procs = []Proc{python("-m", "vllm.entrypoints.openai.api_server", "--model", m.hub, "--port", strconv.Itoa(8000+rng.IntN(100)))}
		j.Session = Session{"screen", "serve-" + m.short}
	default:
		step := strconv.Itoa(1000 * (1 + rng.IntN(20)))
		j.Procs = []Proc{python("eval.py", "--model", m.name, "--checkpoint", fmt.Sprintf("runs/%s-%03d/ckpt-%s.pt", m.name, 1+rng.IntN(max(id, 1)), step), "--split", "val")}
	}
	return j
}

// homeDir returns where command lines put a user's files: the agent user's
// home when jobs have no owner of their own, else /home/<user>.
func homeDir(users []string) func(string) string {
	if len(users) == 0 {
		h, err := os.UserHomeDir()
		if err != nil || h == "" {
			h = "/root"
		}
		return func(string) string { return h }
	}
	return func(u string) string {
		if u == "root" {
			return "/root"
		}
		return "/home/" + u
	}
}
