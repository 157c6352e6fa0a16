package system

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/shirou/gopsutil/v4/disk"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// collectDisks reads the usage of the root path and of every configured
// mount point. The root's figures also go to disk_total/used/percent.
func (c *Collector) collectDisks(ctx context.Context, info *gpumonv1.SystemInfo) error {
	devices := c.devices.get(ctx)
	var firstErr error
	for i, path := range append([]string{c.rootPath}, c.disks...) {
		u, err := disk.UsageWithContext(ctx, path)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("read disk usage of %s: %w", path, err)
			}
			continue
		}
		d := &gpumonv1.Disk{
			Mountpoint: path,
			Device:     devices[path],
			Fstype:     u.Fstype,
			Total:      float64(u.Total),
			Used:       float64(u.Used),
			Percent:    u.UsedPercent,
		}
		if i == 0 {
			info.DiskTotal, info.DiskUsed, info.DiskPercent = d.Total, d.Used, d.Percent
		}
		info.Disks = append(info.Disks, d)
	}
	return firstErr
}

// deviceRefresh is how many calls a mount table read is used for.
const deviceRefresh = 30

// deviceCache maps mount points to devices, re-reading the mount table
// every deviceRefresh calls: it rarely changes and is costly to parse.
type deviceCache struct {
	byMount map[string]string
	age     int
}

func (d *deviceCache) get(ctx context.Context) map[string]string {
	if d.byMount != nil && d.age < deviceRefresh {
		d.age++
		return d.byMount
	}
	d.byMount, d.age = map[string]string{}, 0
	if parts, err := disk.PartitionsWithContext(ctx, true); err == nil {
		for _, p := range parts {
			d.byMount[p.Mountpoint] = p.Device
		}
	}
	return d.byMount
}

// parseOSRelease returns the OS's pretty name from an os-release file
// (PRETTY_NAME, else NAME and VERSION).
func parseOSRelease(b []byte) string {
	vals := map[string]string{}
	for line := range bytes.Lines(b) {
		k, v, ok := strings.Cut(strings.TrimSpace(string(line)), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		if u, err := strconv.Unquote(v); err == nil {
			v = u
		} else {
			v = strings.Trim(v, `"'`)
		}
		vals[k] = v
	}
	if p := vals["PRETTY_NAME"]; p != "" {
		return p
	}
	return strings.TrimSpace(vals["NAME"] + " " + vals["VERSION"])
}
