package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"github.com/gpumon/gpumon/agent/internal/collect"
)

// listLoop refreshes the container list until ctx ends; an unreachable
// daemon is retried at the slower retry interval.
func (c *Collector) listLoop(ctx context.Context) {
	first := true
	for {
		err := c.refreshList(ctx)
		if first {
			close(c.listed)
			first = false
		}
		wait := c.listEvery
		if errors.Is(err, collect.ErrUnavailable) {
			wait = retryInterval
		}
		if !sleep(ctx, wait) {
			return
		}
	}
}

// statsLoop refreshes every container's stats until ctx ends.
func (c *Collector) statsLoop(ctx context.Context) {
	select {
	case <-c.listed:
	case <-ctx.Done():
		return
	}
	for {
		c.refreshStats(ctx)
		if !sleep(ctx, c.statsEvery) {
			return
		}
	}
}

// sleep waits for d; it returns false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// refreshList lists the running containers and inspects the new ones.
func (c *Collector) refreshList(ctx context.Context) error {
	lctx, cancel := context.WithTimeout(ctx, callTimeout)
	list, err := c.api.ContainerList(lctx, container.ListOptions{})
	cancel()
	if err != nil {
		err = classify(fmt.Errorf("list containers: %w", err))
		c.cache.setErr(err)
		return err
	}
	for _, id := range c.cache.setList(list) {
		ictx, cancel := context.WithTimeout(ctx, callTimeout)
		info, err := c.api.ContainerInspect(ictx, id)
		cancel()
		if err != nil {
			c.log.Debug("inspect container", "container", shortID(id), "err", err)
			continue
		}
		ids, devices := gpuDevices(info)
		c.cache.setGPUs(id, ids, devices)
	}
	return nil
}

// refreshStats fetches the stats of every listed container, a few at a
// time.
func (c *Collector) refreshStats(ctx context.Context) {
	sem := make(chan struct{}, statsParallel)
	done := make(chan struct{})
	ids := c.cache.ids()
	for _, id := range ids {
		go func() {
			defer func() { done <- struct{}{} }()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			st, err := c.stats(ctx, id)
			if err != nil {
				c.log.Debug("read container stats", "container", shortID(id), "err", err)
				return
			}
			c.cache.setStats(id, st)
		}()
	}
	for range ids {
		<-done
	}
}

// stats reads one container's stats once (stream=false: the daemon samples
// twice, so precpu_stats is filled).
func (c *Collector) stats(ctx context.Context, id string) (*container.StatsResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*callTimeout)
	defer cancel()
	r, err := c.api.ContainerStats(ctx, id, false)
	if err != nil {
		return nil, fmt.Errorf("stats of container %s: %w", shortID(id), err)
	}
	defer r.Body.Close()
	var st container.StatsResponse
	if err := json.NewDecoder(r.Body).Decode(&st); err != nil {
		return nil, fmt.Errorf("decode stats of container %s: %w", shortID(id), err)
	}
	return &st, nil
}

// classify marks errors that mean "no daemon here" or "not allowed to talk
// to it" as collect.ErrUnavailable.
func classify(err error) error {
	if client.IsErrConnectionFailed(err) || errors.Is(err, fs.ErrPermission) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("%w: %w", err, collect.ErrUnavailable)
	}
	return err
}
