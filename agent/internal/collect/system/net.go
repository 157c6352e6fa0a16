package system

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// iface is a network interface as the IP choice needs it.
type iface struct {
	name     string
	up       bool
	loopback bool
	addrs    []net.IP
}

// systemInterfaces lists the interfaces of the agent's network namespace.
func systemInterfaces() ([]iface, error) {
	nis, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list network interfaces: %w", err)
	}
	out := make([]iface, 0, len(nis))
	for _, ni := range nis {
		f := iface{name: ni.Name, up: ni.Flags&net.FlagUp != 0, loopback: ni.Flags&net.FlagLoopback != 0}
		addrs, err := ni.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				f.addrs = append(f.addrs, n.IP)
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// collectIP finds the primary address without sending any packet: the
// IPv4 address of the default route's interface, else the first IPv4
// address of an interface that is up and not loopback, else such an IPv6
// address.
func (c *Collector) collectIP(info *gpumonv1.SystemInfo) error {
	ifs, err := c.ifaces()
	if err != nil {
		return err
	}
	route := ""
	if b, err := os.ReadFile(filepath.Join(c.procRoot, "net", "route")); err == nil {
		route = parseDefaultRoute(b)
	}
	info.IpAddress = pickIP(route, ifs)
	return nil
}

// parseDefaultRoute returns the interface of the default route with the
// lowest metric in /proc/net/route, or "".
func parseDefaultRoute(b []byte) string {
	best, bestMetric := "", uint64(1<<63)
	for line := range bytes.Lines(b) {
		f := strings.Fields(string(line))
		// Iface Destination Gateway Flags RefCnt Use Metric Mask ...
		if len(f) < 8 || f[1] != "00000000" || f[7] != "00000000" {
			continue
		}
		flags, err := strconv.ParseUint(f[3], 16, 32)
		if err != nil || flags&0x1 == 0 { // RTF_UP
			continue
		}
		metric, err := strconv.ParseUint(f[6], 10, 64)
		if err != nil {
			continue
		}
		if metric < bestMetric {
			best, bestMetric = f[0], metric
		}
	}
	return best
}

// pickIP chooses the primary address; see collectIP.
func pickIP(route string, ifs []iface) string {
	for _, f := range ifs {
		if f.name == route && f.up {
			if ip := firstIP(f.addrs, true); ip != "" {
				return ip
			}
		}
	}
	for _, v4 := range []bool{true, false} {
		for _, f := range ifs {
			if f.up && !f.loopback {
				if ip := firstIP(f.addrs, v4); ip != "" {
					return ip
				}
			}
		}
	}
	return ""
}

// firstIP returns the first global IPv4 (v4) or IPv6 (!v4) address.
func firstIP(addrs []net.IP, v4 bool) string {
	for _, ip := range addrs {
		if (ip.To4() != nil) != v4 || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() {
			continue
		}
		return ip.String()
	}
	return ""
}
