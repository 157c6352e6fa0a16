package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// newClient returns an HTTP client for conc concurrent users that never
// decompresses (so wire bytes can be counted).
func newClient(conc int) *http.Client {
	return &http.Client{
		Timeout: 5 * time.Minute,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:        conc * 2,
			MaxIdleConnsPerHost: conc * 2,
			DisableCompression:  true,
		},
	}
}

// loadResult is what a load run measured.
type loadResult struct {
	Requests  int             `json:"requests"`
	Errors    int             `json:"errors"`
	Elapsed   time.Duration   `json:"elapsed_ns"`
	Latencies []time.Duration `json:"-"`
	Bytes     int64           `json:"bytes"` // response bytes of the last request
	FirstErr  string          `json:"first_error,omitempty"`
}

func (r loadResult) rate() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// load runs conc clients, each doing do(client, i) in a loop, until d has
// passed and every client has finished at least minEach calls (capped by
// limit). do returns the response size.
func load(conc int, d, limit time.Duration, minEach int, do func(c *http.Client, i int) (int64, error)) loadResult {
	client := newClient(conc)
	defer client.CloseIdleConnections()
	var (
		mu    sync.Mutex
		res   loadResult
		next  atomic.Int64
		wg    sync.WaitGroup
		begin = time.Now()
	)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lats []time.Duration
			var errs int
			var firstErr string
			var size int64
			for n := 0; ; n++ {
				el := time.Since(begin)
				if (el >= d && n >= minEach) || el >= limit {
					break
				}
				t0 := time.Now()
				sz, err := do(client, int(next.Add(1)-1))
				if err != nil {
					errs++
					if firstErr == "" {
						firstErr = err.Error()
					}
					continue
				}
				lats = append(lats, time.Since(t0))
				size = sz
			}
			mu.Lock()
			res.Latencies = append(res.Latencies, lats...)
			res.Requests += len(lats)
			res.Errors += errs
			if res.FirstErr == "" {
				res.FirstErr = firstErr
			}
			if size > 0 {
				res.Bytes = size
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(begin)
	slices.Sort(res.Latencies)
	return res
}

// post sends body and reads the answer.
func post(c *http.Client, url string, body []byte) (int64, error) {
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("POST %s: %s", url, resp.Status)
	}
	return n, err
}

// get fetches url, with gzip when asked, and returns the bytes on the wire.
func get(ctx context.Context, c *http.Client, url string, gzip bool) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	if gzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return n, err
}

// fill posts one report per hostname, 8 at a time.
func fill(url string, bodies [][]byte) error {
	client := newClient(8)
	defer client.CloseIdleConnections()
	var (
		wg   sync.WaitGroup
		next atomic.Int64
		fail atomic.Value
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(bodies) {
					return
				}
				if _, err := post(client, url, bodies[i]); err != nil {
					fail.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, ok := fail.Load().(error); ok {
		return err
	}
	return nil
}
