// Package e2e holds end-to-end tests: real gpumon-hub, gpumon-agent and
// gpumon-gateway processes talking over loopback sockets.
package e2e
