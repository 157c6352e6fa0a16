// Package collect runs the agent's collectors and merges what they find into
// one report.
//
// Each source (gpu, system, process, screen, docker) is a Collector in its
// own sub-package. A Collector fills only its own fields of a Sample; the
// Runner gives every collector a private Sample, runs them concurrently with
// a per-collector timeout, keeps the parts that finished in time and merges
// them into a gpumonv1.Report (GPU processes joined with the process list,
// containers with their GPU processes).
package collect

import (
	"context"
	"errors"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// ErrUnavailable marks a source that does not exist on this machine (no
// NVIDIA driver, no Docker daemon, no screen). It is reported as
// "unavailable", not as an error.
var ErrUnavailable = errors.New("source unavailable")

// Collector reads one source.
type Collector interface {
	// Name is the collector's name in reports: "gpu", "system", ...
	Name() string
	// Collect fills the collector's own fields of s. It must return soon
	// after ctx is done. Calls never overlap for one collector.
	Collect(ctx context.Context, s *Sample) error
}

// Sample holds what the collectors of one cycle found. Each field belongs to
// one collector.
type Sample struct {
	// gpu: GPUs (Processes left empty), their processes, versions.
	GPUs          []*gpumonv1.Gpu
	GPUProcesses  []GPUProcess
	DriverVersion string
	CUDAVersion   string
	Simulated     bool

	// system: machine figures (sessions, containers, processes left empty).
	System *gpumonv1.SystemInfo

	// process: every process (GPU fields left empty).
	Processes []*gpumonv1.Process

	// screen: screen and tmux sessions.
	ScreenSessions []*gpumonv1.TerminalSession
	TmuxSessions   []*gpumonv1.TerminalSession

	// docker: containers (gpu_pids left empty).
	Containers []*gpumonv1.DockerContainer
}

// GPUProcess is one process using one GPU, as NVML reports it.
type GPUProcess struct {
	PID int32
	// GPU index.
	GPU int32
	// MiB.
	UsedMemory uint32
	// Percent of SM time, where NVML reports it.
	SMUtilization *uint32
	// "compute", "graphics" or "compute+graphics".
	Type string
}

// absorb copies the fields o filled into s.
func (s *Sample) absorb(o *Sample) {
	if o.GPUs != nil {
		s.GPUs = o.GPUs
	}
	if o.GPUProcesses != nil {
		s.GPUProcesses = o.GPUProcesses
	}
	if o.DriverVersion != "" {
		s.DriverVersion = o.DriverVersion
	}
	if o.CUDAVersion != "" {
		s.CUDAVersion = o.CUDAVersion
	}
	s.Simulated = s.Simulated || o.Simulated
	if o.System != nil {
		s.System = o.System
	}
	if o.Processes != nil {
		s.Processes = o.Processes
	}
	if o.ScreenSessions != nil {
		s.ScreenSessions = o.ScreenSessions
	}
	if o.TmuxSessions != nil {
		s.TmuxSessions = o.TmuxSessions
	}
	if o.Containers != nil {
		s.Containers = o.Containers
	}
}
