package history

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
)

// Remote-write limits.
const (
	RemoteQueueSize  = 200_000
	RemoteBatchSize  = 5_000
	RemoteFlushEvery = time.Second
)

// RemoteWriter sends every stored sample to a Prometheus remote-write
// endpoint (Prometheus, Mimir, Thanos Receive, VictoriaMetrics, ...). The
// queue is bounded: when the endpoint is down longer than the queue lasts,
// the newest samples are dropped and counted. Failed batches are retried
// with capped exponential backoff; a batch the endpoint refuses as invalid
// (4xx other than 429) is dropped.
type RemoteWriter struct {
	url    string
	client *http.Client
	queue  chan prompb.TimeSeries
	log    *slog.Logger

	Sent, Dropped, Refused atomic.Uint64
	// queued counts the samples taken into the queue, done those of them
	// sent or refused: the queue is first in, first out, so done ≥ n means
	// the n-th queued sample has left.
	queued, done atomic.Uint64
}

// NewRemoteWriter returns a writer for url; Run sends.
func NewRemoteWriter(url string, log *slog.Logger) *RemoteWriter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &RemoteWriter{url: url, client: &http.Client{Timeout: 30 * time.Second},
		queue: make(chan prompb.TimeSeries, RemoteQueueSize), log: log}
}

// Forward queues one sample (never blocks).
func (w *RemoteWriter) Forward(lset labels.Labels, t int64, v float64) {
	ts := prompb.TimeSeries{Samples: []prompb.Sample{{Timestamp: t, Value: v}}}
	lset.Range(func(l labels.Label) { ts.Labels = append(ts.Labels, prompb.Label{Name: l.Name, Value: l.Value}) })
	select {
	case w.queue <- ts:
		w.queued.Add(1)
	default:
		w.Dropped.Add(1)
	}
}

// Queued is how many samples were queued so far: WaitSent(Queued()) after
// a report's samples were forwarded waits for them.
func (w *RemoteWriter) Queued() uint64 { return w.queued.Load() }

// WaitSent returns once the first n queued samples were sent (or refused
// as invalid by the endpoint), or with ctx's error.
func (w *RemoteWriter) WaitSent(ctx context.Context, n uint64) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for w.done.Load() < n {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// Pending is the number of queued samples.
func (w *RemoteWriter) Pending() int { return len(w.queue) }

// Run sends batches until ctx is done, then tries once more to flush what
// is queued (bounded by a few seconds).
func (w *RemoteWriter) Run(ctx context.Context) {
	tick := time.NewTicker(RemoteFlushEvery)
	defer tick.Stop()
	batch := make([]prompb.TimeSeries, 0, RemoteBatchSize)
	for {
		select {
		case ts := <-w.queue:
			batch = append(batch, ts)
			if len(batch) < RemoteBatchSize {
				continue
			}
		case <-tick.C:
		case <-ctx.Done():
			w.drain(batch)
			return
		}
		if len(batch) > 0 {
			w.sendWithRetry(ctx, batch)
			batch = batch[:0]
		}
	}
}

func (w *RemoteWriter) drain(batch []prompb.TimeSeries) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for len(w.queue) > 0 && len(batch) < RemoteBatchSize*4 {
		batch = append(batch, <-w.queue)
	}
	if len(batch) > 0 {
		_ = w.send(ctx, batch)
	}
}

func (w *RemoteWriter) sendWithRetry(ctx context.Context, batch []prompb.TimeSeries) {
	wait := 500 * time.Millisecond
	for {
		err := w.send(ctx, batch)
		if err == nil {
			w.done.Add(uint64(len(batch)))
			return
		}
		if _, refused := err.(refusedError); refused {
			w.done.Add(uint64(len(batch)))
			w.Refused.Add(uint64(len(batch)))
			w.log.Warn("remote write refused a batch; dropped", "url", w.url, "samples", len(batch), "err", err)
			return
		}
		w.log.Warn("remote write failed; retrying", "url", w.url, "err", err, "retry_in", wait, "queued", len(w.queue))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

type refusedError struct{ error }

func (w *RemoteWriter) send(ctx context.Context, batch []prompb.TimeSeries) error {
	req := &prompb.WriteRequest{Timeseries: batch}
	data, err := req.Marshal()
	if err != nil {
		return refusedError{fmt.Errorf("encode: %w", err)}
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(snappy.Encode(nil, data)))
	if err != nil {
		return refusedError{err}
	}
	hreq.Header.Set("Content-Encoding", "snappy")
	hreq.Header.Set("Content-Type", "application/x-protobuf")
	hreq.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	hreq.Header.Set("User-Agent", "gpumon-hub")
	resp, err := w.client.Do(hreq)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body.Close()
	switch {
	case resp.StatusCode/100 == 2:
		w.Sent.Add(uint64(len(batch)))
		return nil
	case resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests:
		return refusedError{fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(body))}
	}
	return fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(body))
}
