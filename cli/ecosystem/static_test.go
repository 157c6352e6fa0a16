//go:build ecosystem

package ecosystem

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"
)

var (
	helpFlag = regexp.MustCompile(`(?m)^  (--[a-z0-9.-]+)`)
	helpEnv  = regexp.MustCompile(`\[\$(GPUMON_[A-Z0-9_]+)\]`)
	envName  = regexp.MustCompile(`\bGPUMON_[A-Z0-9_]+\b`)
	helps    sync.Map // binary → set of flags and variables
)

// known is the set of --flags and GPUMON_ variables in binary's --help.
func known(t *testing.T, binary string) map[string]bool {
	t.Helper()
	if v, ok := helps.Load(binary); ok {
		return v.(map[string]bool)
	}
	text := help(t, binary)
	set := map[string]bool{"--help": true}
	for _, m := range helpFlag.FindAllStringSubmatch(text, -1) {
		set[m[1]] = true
	}
	for _, m := range helpEnv.FindAllStringSubmatch(text, -1) {
		set[m[1]] = true
	}
	helps.Store(binary, set)
	return set
}

// checkArgs fails for every --flag in args that binary does not have.
func checkArgs(t *testing.T, file, binary string, args []string) {
	t.Helper()
	set := known(t, binary)
	for _, a := range args {
		if !strings.HasPrefix(a, "--") {
			continue
		}
		name, _, _ := strings.Cut(a, "=")
		if !set[name] {
			t.Errorf("%s passes %s, which %s --help does not list", file, name, binary)
		}
	}
}

// checkEnv fails for every GPUMON_ variable in text that binary does not read.
func checkEnv(t *testing.T, file, binary, text string) {
	t.Helper()
	set := known(t, binary)
	for _, name := range envName.FindAllString(text, -1) {
		if !set[name] {
			t.Errorf("%s sets %s, which %s --help does not list", file, name, binary)
		}
	}
}

// TestDockerfiles checks the exec-form commands of the images.
func TestDockerfiles(t *testing.T) {
	for file, binary := range map[string]string{"deploy/docker/Dockerfile.hub": "gpumon-hub", "deploy/docker/Dockerfile.agent": "gpumon-agent"} {
		text := readFile(t, file)
		found := false
		for _, line := range strings.Split(text, "\n") {
			for _, instr := range []string{"ENTRYPOINT ", "CMD ", "HEALTHCHECK CMD "} {
				if !strings.HasPrefix(line, instr) {
					continue
				}
				var argv []string
				if err := json.Unmarshal([]byte(strings.TrimPrefix(line, instr)), &argv); err != nil {
					t.Errorf("%s: %s is not in exec form: %v", file, line, err)
					continue
				}
				found = found || argv[0] == binary
				checkArgs(t, file, argv[0], argv[1:])
			}
		}
		if !found {
			t.Errorf("%s does not run %s", file, binary)
		}
		envLines := regexp.MustCompile(`(?m)^(ENV|ARG)\b.*(\n\s+.*)*`).FindAllString(text, -1)
		checkEnv(t, file, binary, strings.Join(envLines, "\n"))
	}
}

// TestCompose parses the compose files and checks each service's command
// and environment against its binary: one hub and an agent, and three hubs
// of a cluster with an agent that knows them all.
func TestCompose(t *testing.T) {
	for file, services := range map[string]map[string]string{
		"deploy/docker/compose.yaml":         {"hub": "gpumon-hub", "agent": "gpumon-agent"},
		"deploy/docker/compose-cluster.yaml": {"hub-a": "gpumon-hub", "hub-b": "gpumon-hub", "hub-c": "gpumon-hub", "agent": "gpumon-agent"},
	} {
		doc := readCompose(t, file)
		for name, binary := range services {
			s, ok := doc.Services[name]
			if !ok {
				t.Fatalf("%s has no service %q", file, name)
			}
			checkArgs(t, file+" "+name, binary, s.Command)
			for k := range s.Environment {
				checkEnv(t, file+" "+name, binary, k)
			}
			if binary == "gpumon-hub" && len(services) > 2 && s.Environment["GPUMON_CLUSTER_NATS"] == "" {
				t.Errorf("%s: %s does not join the cluster (GPUMON_CLUSTER_NATS)", file, name)
			}
		}
		if doc.Services["agent"].Pid != "host" {
			t.Errorf("%s: the agent must share the host's PID namespace (pid: host)", file)
		}
		for name, s := range doc.Services {
			if strings.HasPrefix(name, "nats-") {
				checkNATSArgs(t, file+" "+name, s.Command)
			}
		}
	}
}

type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Pid         string            `yaml:"pid"`
	} `yaml:"services"`
}

func readCompose(t *testing.T, file string) composeFile {
	t.Helper()
	var doc composeFile
	if err := yaml.Unmarshal([]byte(readFile(t, file)), &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return doc
}

// checkNATSArgs checks a NATS server's flags against Debian's nats-server
// --help, when it is installed (the cluster tests install it).
func checkNATSArgs(t *testing.T, where string, args []string) {
	t.Helper()
	out, err := exec.Command("nats-server", "--help").CombinedOutput()
	if err != nil {
		return
	}
	for _, a := range args {
		if name, _, _ := strings.Cut(a, "="); strings.HasPrefix(name, "--") && !regexp.MustCompile(`(?m)[ ,]`+regexp.QuoteMeta(name)+`\b`).Match(out) {
			t.Errorf("%s passes %s, which nats-server --help does not list", where, name)
		}
	}
}

// TestKubernetes parses every manifest and checks containers' args and env.
func TestKubernetes(t *testing.T) {
	kinds := map[string]bool{}
	hubReplicas := map[string]int{}
	for _, file := range []string{"deploy/kubernetes/hub.yaml", "deploy/kubernetes/agent-daemonset.yaml", "deploy/kubernetes/cluster.yaml"} {
		dec := yaml.NewDecoder(bytes.NewReader([]byte(readFile(t, file))))
		for {
			var obj manifest
			err := dec.Decode(&obj)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if obj.APIVersion == "" || obj.Kind == "" || obj.Metadata.Name == "" {
				t.Errorf("%s: a document lacks apiVersion, kind or metadata.name", file)
			}
			kinds[obj.Kind] = true
			if obj.Kind == "DaemonSet" && !obj.Spec.Template.Spec.HostPID {
				t.Errorf("%s: the agent DaemonSet needs hostPID: true", file)
			}
			for _, c := range obj.Spec.Template.Spec.Containers {
				if c.Name == "nats" || c.Name == "victoria-metrics" {
					checkNATSArgs(t, file, map[string][]string{"nats": c.Args}[c.Name])
					continue
				}
				binary := map[string]string{"hub": "gpumon-hub", "agent": "gpumon-agent"}[c.Name]
				if binary == "" {
					t.Fatalf("%s: unknown container %q", file, c.Name)
				}
				if c.Name == "hub" {
					hubReplicas[file] = obj.Spec.Replicas
				}
				checkArgs(t, file, binary, c.Args)
				for _, e := range c.Env {
					checkEnv(t, file, binary, e.Name)
				}
			}
		}
	}
	for _, want := range []string{"Deployment", "Service", "PersistentVolumeClaim", "DaemonSet", "Secret", "StatefulSet"} {
		if !kinds[want] {
			t.Errorf("the manifests have no %s", want)
		}
	}
	if hubReplicas["deploy/kubernetes/hub.yaml"] != 1 || hubReplicas["deploy/kubernetes/cluster.yaml"] != 3 {
		t.Errorf("hub replicas = %v: one for the single hub (its history is on its volume), three in the cluster", hubReplicas)
	}
}

type manifest struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Replicas int `yaml:"replicas"`
		Template struct {
			Spec struct {
				HostPID    bool `yaml:"hostPID"`
				Containers []struct {
					Name string   `yaml:"name"`
					Args []string `yaml:"args"`
					Env  []struct {
						Name string `yaml:"name"`
					} `yaml:"env"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// TestPrometheusScrapeConfig checks the scrape configuration in
// deploy/README.md with Debian's promtool, and that it scrapes the port the
// agent DaemonSet serves its metrics on.
func TestPrometheusScrapeConfig(t *testing.T) {
	need(t, "prometheus", "promtool", "--version")
	doc := readFile(t, "deploy/README.md")
	_, section, _ := strings.Cut(doc, "\n## Prometheus\n")
	_, block, ok := strings.Cut(section, "```yaml\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 || !strings.Contains(block, "scrape_configs:") {
		t.Fatalf("deploy/README.md's Prometheus section has no scrape configuration")
	}
	file := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(file, withoutKubernetesSD(t, block), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := execOutput("promtool", "check", "config", file); err != nil {
		t.Errorf("promtool check config: %v\n%s", err, out)
	}
	ds := readFile(t, "deploy/kubernetes/agent-daemonset.yaml")
	for _, want := range []string{`"--metrics-addr", ":9400"`, "{name: metrics, containerPort: 9400", `prometheus.io/port: "9400"`} {
		if !strings.Contains(ds, want) {
			t.Errorf("the agent DaemonSet lacks %s", want)
		}
	}
	if !strings.Contains(block, "gpumon-agent;metrics") || !strings.Contains(block, ":9400") {
		t.Error("the scrape configuration does not keep the DaemonSet's metrics port")
	}
}

// withoutKubernetesSD returns the configuration with every job's
// kubernetes_sd_configs replaced by an empty static_configs: Debian builds
// Prometheus without Kubernetes discovery, so its promtool refuses the
// field. The relabelling rules stay and are checked; the discovery block
// itself is checked here against Prometheus's documented fields.
func withoutKubernetesSD(t *testing.T, block string) []byte {
	t.Helper()
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(block), &cfg); err != nil {
		t.Fatalf("the scrape configuration is not YAML: %v", err)
	}
	jobs, _ := cfg["scrape_configs"].([]any)
	for _, j := range jobs {
		job, _ := j.(map[string]any)
		sd, ok := job["kubernetes_sd_configs"].([]any)
		if !ok {
			continue
		}
		for _, c := range sd {
			c, _ := c.(map[string]any)
			role, _ := c["role"].(string)
			ns, _ := c["namespaces"].(map[string]any)
			names, _ := ns["names"].([]any)
			if !slices.Contains([]string{"node", "service", "pod", "endpoints", "endpointslice", "ingress"}, role) || len(c) != 2 || len(ns) != 1 || len(names) == 0 {
				t.Errorf("job %v: kubernetes_sd_configs entry %v is not {role, namespaces: {names}}", job["job_name"], c)
			}
		}
		delete(job, "kubernetes_sd_configs")
		job["static_configs"] = []any{}
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
