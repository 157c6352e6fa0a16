// Package e2e holds end-to-end tests: real gpumon-hub, gpumon-agent and
// gpumon-gateway processes talking over loopback sockets, and the outside
// programs the hub must work with: Debian's Prometheus, a stand-in for
// the original Python collector on Debian's python3-websockets
// (testdata/original_collector.py), and Debian's screen and tmux, in whose
// sessions a simulated agent runs its jobs.
package e2e
