package app

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/gpumon/gpumon/agent/internal/exporter"
	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

// validateMetricsAddr checks --metrics-addr (host:port, the host may be
// empty) without opening it.
func validateMetricsAddr(addr string, once bool) error {
	if addr == "" {
		return nil
	}
	if once {
		return fmt.Errorf("--metrics-addr %q: a scrape target needs a running agent, not --once", addr)
	}
	_, port, err := net.SplitHostPort(addr)
	if n, perr := strconv.ParseUint(port, 10, 16); err != nil || perr != nil || n == 0 {
		return fmt.Errorf("--metrics-addr %q: want [host]:port, e.g. :9400", addr)
	}
	return nil
}

// scrapeTarget is the running --metrics-addr server, or none.
type scrapeTarget struct {
	exp  *exporter.Exporter
	done chan struct{}
}

// startExporter opens --metrics-addr and serves it until ctx is done. A
// server that fails later is logged; the agent keeps reporting to the hub.
func (c *Config) startExporter(ctx context.Context) (*scrapeTarget, error) {
	if c.MetricsAddr == "" {
		return &scrapeTarget{}, nil
	}
	ln, err := exporter.Listen(c.MetricsAddr)
	if err != nil {
		return nil, err
	}
	st := &scrapeTarget{exp: exporter.New(c.Log), done: make(chan struct{})}
	go func() {
		defer close(st.done)
		if err := st.exp.Serve(ctx, ln); err != nil {
			c.Log.Error("metrics server stopped", "addr", c.MetricsAddr, "err", err)
		}
	}()
	return st, nil
}

// observe hands a sample to the exporter, if there is one.
func (st *scrapeTarget) observe(r *gpumonv1.Report, machineKey string) {
	if st.exp != nil {
		st.exp.Observe(r, machineKey)
	}
}

// wait waits for the server to stop (after ctx is done).
func (st *scrapeTarget) wait() {
	if st.done != nil {
		<-st.done
	}
}
